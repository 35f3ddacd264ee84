/**
 * Shared setup for the Auth integration tests: real Auth processes (tsx, free port) against
 * the real MongoDB-wire server from @chat/infra, each test file with its own database.
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { repoRoot } from '@chat/infra';
import { request, stackEnv, startService, type RunningService } from '@chat/testkit';

export interface AuthStack {
  env: Record<string, string>;
  mongoUrl: string;
  dbName: string;
  /** Starts one more Auth process on the same database (a replica). */
  start(extraEnv?: Record<string, string>, opts?: { port?: number }): Promise<RunningService>;
  /** Stops every process started here and drops the test database. */
  stop(): Promise<void>;
}

export async function authStack(overrides: Record<string, string> = {}): Promise<AuthStack> {
  const { env, infra } = await stackEnv(overrides);
  const started: RunningService[] = [];
  const dbName = env.AUTH_MONGO_DB!;
  return {
    env,
    mongoUrl: infra.mongoUrl,
    dbName,
    async start(extraEnv = {}, opts = {}) {
      const svc = await startService('auth', { ...env, ...extraEnv }, opts);
      started.push(svc);
      return svc;
    },
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
      const client = new MongoClient(infra.mongoUrl);
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/** POST a JSON body. */
export const post = (url: string, body: unknown) => request(url, { method: 'POST', body });

/** A counter's value from /metrics, summing every series that matches the labels given. */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await request(`${baseUrl}/metrics`)).text;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([\d.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/**
 * Runs Auth the way startService does, for a start that is expected to fail: resolves with the
 * exit code and the output. (startService's wait would only give up after its full timeout.)
 */
export function runUntilExit(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
  const dir = join(repoRoot(), 'services', 'auth');
  const proc = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', join(dir, 'src', 'index.ts')], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'test', ...env, MONGO_DB: env.AUTH_MONGO_DB ?? env.MONGO_DB, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

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
