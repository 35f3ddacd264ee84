/**
 * Helpers for the Auth integration tests (the processes come from @chat/testkit's startStack):
 * a JSON POST, and a TCP proxy that takes the database away from one Auth process.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { request } from '@chat/testkit';

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
