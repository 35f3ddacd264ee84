/**
 * An HTTP proxy in front of Chat that counts the `GET /chat/sync` requests in flight through it,
 * exactly, and keeps their peak: what REPLAY_CONCURRENCY bounds per gateway. The gateways of a
 * test point their CHAT_URL at it. Why not Chat's metrics: a gauge scraped every few hundred ms
 * misses a peak that lasts milliseconds, so an assertion on it could not fail when it should.
 */
import { Agent, createServer, request, type Server } from 'node:http';

export interface SyncConcurrency {
  /** The proxy's base URL, for CHAT_URL. */
  url: string;
  /** Most sync requests in flight at once so far. */
  readonly peak: number;
  /** Sync requests answered, by status (0: the proxy could not reach Chat). */
  readonly statuses: Record<string, number>;
  /** Sync requests seen so far. */
  readonly requests: number;
  /** Starts a new phase: the peak and the counts from now on. */
  reset(): void;
  close(): Promise<void>;
}

export async function syncConcurrencyProxy(chatUrl: string): Promise<SyncConcurrency> {
  const target = new URL(chatUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1_000 });
  let inFlight = 0;
  let peak = 0;
  let requests = 0;
  let statuses: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const isSync = req.url?.startsWith('/chat/sync') === true;
    if (isSync) {
      requests++;
      peak = Math.max(peak, ++inFlight);
    }
    let counted = false;
    const done = (status: number) => {
      if (!isSync || counted) return;
      counted = true;
      inFlight--;
      statuses[status] = (statuses[status] ?? 0) + 1;
    };
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.once('end', () => done(answer.statusCode ?? 0));
      answer.once('error', () => done(0));
    });
    upstream.once('error', () => {
      done(0);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // The gateway gave up (its timeout): the request is no longer in flight for it.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
      done(0);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get peak() {
      return peak;
    },
    get statuses() {
      return { ...statuses };
    },
    get requests() {
      return requests;
    },
    reset() {
      peak = inFlight;
      requests = 0;
      statuses = {};
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
