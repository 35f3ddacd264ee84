/**
 * A WebSocket test client over the `ws` package: records every frame and lets a test wait for
 * the ones it expects (the gateway's integration tests and the system tests).
 */
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

/** A WebSocket client that records every frame and lets a test wait for the ones it expects. */
export class TestClient {
  readonly frames: any[] = [];
  readonly closed: Promise<Closed>;
  private waiters: (() => void)[] = [];
  private closeInfo: Closed | undefined;
  lastError: Error | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { type: '<non-json>', text, isBinary };
      }
      this.frames.push(frame);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.wake();
        resolve(this.closeInfo);
      });
    });
    ws.on('error', (err) => (this.lastError = err)); // surfaced through `closed`
  }

  static open(url: string, opts: { headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: opts.headers, autoPong: opts.autoPong ?? true });
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** Connects with `?token=` and waits for the `ready` frame. */
  static async connect(gatewayUrl: string, token: string, query: Record<string, string> = {}): Promise<TestClient> {
    const qs = new URLSearchParams({ token, ...query });
    const client = await TestClient.open(`${wsUrl(gatewayUrl)}/?${qs}`);
    await client.next((f) => f.type === 'ready');
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get closeResult(): Closed | undefined {
    return this.closeInfo;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The frames of one type, in arrival order. */
  ofType(type: string): any[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Resolves with the first recorded frame matching `pred` (already received or still to come). */
  async next(pred: (frame: any) => boolean, timeoutMs = 10_000): Promise<any> {
    return this.until(() => this.frames.find(pred), timeoutMs, 'a matching frame');
  }

  /** Waits until `count` frames of `type` were received. */
  async waitForCount(type: string, count: number, timeoutMs = 15_000): Promise<any[]> {
    return this.until(() => (this.ofType(type).length >= count ? this.ofType(type) : undefined), timeoutMs, `${count} "${type}" frames (have ${this.ofType(type).length})`);
  }

  /** Waits for the socket to close; rejects when it stays open. */
  async waitClosed(timeoutMs = 10_000): Promise<Closed> {
    return this.until(() => this.closeInfo, timeoutMs, 'the socket to close');
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  private until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== attempt);
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== attempt);
        const seen = this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 200));
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last frames: ${seen.join(' | ')}; close: ${JSON.stringify(this.closeInfo)}${this.lastError ? `; error: ${this.lastError.message}` : ''}`));
      }, timeoutMs);
      if (!attempt()) this.waiters.push(attempt);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) (w as () => boolean)();
  }
}

export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}
