/**
 * A TCP relay in front of a real server that a test can cut: every connection through it is
 * reset and its port stops accepting, which is what a client sees when the server dies under
 * it (connections lost mid-command, then refused). Lets a test take the database away from one
 * client without stopping the shared server every other test uses.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface TcpRelay {
  /** The target's URL with the relay's port in place of the server's. */
  url: string;
  /** Resets every connection and stops accepting new ones. */
  cut(): void;
  /** Accepts connections again, on the same port (the server is back). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpRelay(targetUrl: string): Promise<TcpRelay> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => (sockets.delete(a), b.destroy()));
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut() {
      server.close();
      for (const s of sockets) s.resetAndDestroy();
    },
    restore: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}
