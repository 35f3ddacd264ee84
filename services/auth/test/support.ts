/**
 * Helpers for the Auth integration tests (the processes come from @chat/testkit's startStack):
 * a test file's stack with one Auth process, a JSON POST, and a TCP proxy that takes the
 * database away from one Auth process.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before } from 'node:test';
import { request, startStack, type Stack } from '@chat/testkit';

/**
 * The stack of a test file that needs one Auth process (with `env` added): started in a `before`
 * hook, then `setup` runs with it, and an `after` hook stops it and drops its databases. The
 * Stack returned stands for the started one: read it (`stack.auth.url`, `stack.env`, ...) in
 * tests. Setup that needs the stack goes in `setup`, not in a `before` of its own: at the top
 * level of a file, node:test (20) runs each `before` as soon as it is registered, so a second
 * one would not wait for the stack.
 */
export function authStack(env: Record<string, string> = {}, setup?: (stack: Stack) => Promise<void>): Stack {
  let started: Stack | undefined;
  before(async () => {
    started = await startStack({ services: ['auth'], env });
    await setup?.(started);
  });
  after(() => started?.stop());
  return new Proxy({} as Stack, {
    get(_, key) {
      assert.ok(started, `stack.${String(key)} read before authStack()'s before hook had started the stack`);
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}

/** POST a JSON body. */
export const post = (url: string, body: unknown) => request(url, { method: 'POST', body });

export interface TcpProxy {
  port: number;
  /** MONGO_URL with the host and port replaced by the proxy's. */
  url: string;
  /** Starts accepting and forwarding connections. */
  up(): Promise<void>;
  /** Stops accepting and cuts every open connection, like a database that went away. */
  down(): Promise<void>;
}

/**
 * A TCP forwarder in front of the real MongoDB-wire server, to take "the database" away and bring
 * it back for one Auth process without touching the server other tests share. Starts down.
 */
export async function mongoProxy(mongoUrl: string, port: number): Promise<TcpProxy> {
  const m = /^mongodb:\/\/(?:[^@/]*@)?([^/:,]+):(\d+)/.exec(mongoUrl);
  if (!m) throw new Error(`cannot proxy ${mongoUrl}`);
  const [target, host, targetPort] = [m[0], m[1]!, Number(m[2])];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    port,
    url: mongoUrl.replace(target, target.replace(`${host}:${targetPort}`, `127.0.0.1:${port}`)),
    async up() {
      server = createServer((client) => {
        const upstream = connect(targetPort, host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', () => resolve());
      });
    },
    async down() {
      const closing = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      for (const s of sockets) s.destroy();
      server = undefined;
      await closing;
    },
  };
}
