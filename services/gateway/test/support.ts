/**
 * Integration-test helpers: a WebSocket test client over the `ws` package, stack start-up
 * (real Auth, Chat and Gateway processes against the real infrastructure) and small utilities.
 */
import { randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import WebSocket from 'ws';
import { EVENTS_EXCHANGE } from '@chat/common/contracts';
import assert from 'node:assert/strict';
import { request, sleep, startService, stackEnv, waitFor, type RunningService, type StackEnv, type TestUser } from '@chat/testkit';

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

/** The HTTP status of a refused upgrade (fails the test when the upgrade succeeds). */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  try {
    const c = await TestClient.open(url, { headers });
    c.close();
    throw new Error('upgrade unexpectedly succeeded');
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status === undefined) throw err;
    return { status: e.status, body: e.body ? JSON.parse(e.body) : undefined };
  }
}

export interface Stack {
  stack: StackEnv;
  auth: RunningService;
  chat: RunningService | undefined;
  gateways: RunningService[];
  gatewayEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** Env every test gateway gets: short timers so tests stay fast. */
export function gatewayEnvFor(stack: StackEnv, auth: RunningService, chat: RunningService | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.env,
    AUTH_URL: auth.url,
    CHAT_URL: chat?.url ?? 'http://127.0.0.1:9',
    POD_NAME: 'test-gw',
    SHUTDOWN_GRACE_MS: '8000',
    JWKS_COOLDOWN_MS: '0',
    ...extra,
  };
}

/** Real Auth (+ Chat unless `chat: false`) and `gateways` gateway processes. */
export async function startStack(opts: { gateways?: number; chat?: boolean; gatewayEnv?: Record<string, string> } = {}): Promise<Stack> {
  const stack = await stackEnv();
  const auth = await startService('auth', stack.env);
  const started: RunningService[] = [auth];
  try {
    const chat = opts.chat === false ? undefined : await startService('chat', { ...stack.env, AUTH_URL: auth.url });
    if (chat) started.push(chat);
    const gatewayEnv = gatewayEnvFor(stack, auth, chat, opts.gatewayEnv);
    const gateways: RunningService[] = [];
    for (let i = 0; i < (opts.gateways ?? 1); i++) {
      const gw = await startGateway(gatewayEnv);
      gateways.push(gw);
      started.push(gw);
    }
    const result: Stack = {
      stack,
      auth,
      chat,
      gateways,
      gatewayEnv,
      async stop() {
        // Tests may replace `auth` or add gateways; stop whatever the stack holds now, too.
        const all = new Set<RunningService>([...result.gateways, ...started, result.auth, ...(result.chat ? [result.chat] : [])]);
        await Promise.all([...all].map((svc) => svc.stop('SIGTERM', 10_000).catch(() => undefined)));
      },
    };
    return result;
  } catch (err) {
    await Promise.all(started.map((s) => s.stop('SIGKILL')));
    throw err;
  }
}

/** Starts a gateway and waits until it consumes events (/readyz). */
export async function startGateway(env: Record<string, string>, port?: number): Promise<RunningService> {
  return startService('gateway', env, { readyPath: '/readyz', timeoutMs: 30_000, ...(port ? { port } : {}) });
}

/** Alice's message through Chat's HTTP API; returns the stored message. */
export async function send(chatUrl: string, from: TestUser, to: string, text: string): Promise<any> {
  const res = await request(`${chatUrl}/chat/send`, { token: from.token, body: { to, text } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`send: ${res.status} ${res.text}`);
  return res.body.message;
}

/** Publishes raw bytes straight to `chat.events`, as a misbehaving publisher would. */
export async function publishRaw(amqpUrl: string, payloads: (string | Buffer)[], contentType = 'application/json'): Promise<void> {
  const conn = await amqpConnect(amqpUrl);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(EVENTS_EXCHANGE, 'fanout', { durable: true });
    for (const p of payloads) ch.publish(EVENTS_EXCHANGE, '', Buffer.isBuffer(p) ? p : Buffer.from(p), { contentType, messageId: randomUUID() });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** A gateway metric's value (summed over label sets matching `labels`). */
export async function metricValue(gatewayUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbl = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => lbl.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export async function readyz(gatewayUrl: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gatewayUrl}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** Every message id after `since` in Bob's timeline, from Chat's sync (the reference). */
export async function syncIds(chatUrl: string, user: TestUser, since: string): Promise<string[]> {
  const ids: string[] = [];
  let after = since;
  for (;;) {
    const page = await request(`${chatUrl}/chat/sync?after=${encodeURIComponent(after)}&limit=500`, { token: user.token });
    if (page.status !== 200) throw new Error(`sync: ${page.status} ${page.text}`);
    ids.push(...page.body.messages.map((m: { id: string }) => m.id));
    after = page.body.cursor;
    if (!page.body.hasMore) return ids;
  }
}

/** Sends from Alice to Bob at about `perSecond`, recording the ids that got a 201. */
export function keepSending(chatUrl: string, from: TestUser, to: TestUser, perSecond: number) {
  const accepted: string[] = [];
  let failures = 0;
  let running = true;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    const started = Date.now();
    while (running) {
      const due = started + (n * 1000) / perSecond;
      if (Date.now() < due) await sleep(due - Date.now());
      if (inFlight.size >= 50) {
        await Promise.race(inFlight);
        continue;
      }
      const text = `msg ${n++}`;
      const p: Promise<void> = request(`${chatUrl}/chat/send`, { token: from.token, body: { to: to.username, text } })
        .then((res) => {
          if (res.status === 201) accepted.push(res.body.message.id);
          else failures++;
        })
        .catch(() => void failures++)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  })();
  return {
    accepted,
    get failures() {
      return failures;
    },
    get attempted() {
      return n;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Asserts `stream` has every id in `expected` exactly once and nothing else, in the same order. */
export function assertExactlyOnceInOrder(stream: string[], expected: string[], what: string) {
  const seen = new Set<string>();
  const dups = stream.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  assert.deepEqual(dups, [], `${what}: duplicates`);
  const missing = expected.filter((id) => !seen.has(id));
  assert.deepEqual(missing, [], `${what}: missing`);
  assert.deepEqual(stream, expected, `${what}: order`);
}

export { waitFor };

/** Signs a user token the way Auth does (same key and kid), with claims a test chooses. */
export async function signUserToken(
  stack: Stack,
  claims: { sub: string; username: string; exp: number; aud?: string; iss?: string },
): Promise<string> {
  const { SignJWT } = await import('jose');
  const { createPrivateKey } = await import('node:crypto');
  const jwks = (await (await fetch(`${stack.auth.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  const kid = jwks.keys[0]!.kid;
  return new SignJWT({ username: claims.username })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(claims.iss ?? 'chat-auth')
    .setAudience(claims.aud ?? 'chat')
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.exp)
    .sign(createPrivateKey(stack.stack.env.JWT_PRIVATE_KEY!));
}
