/**
 * Helpers for integration tests and the benchmark: start real service processes on free ports
 * against the real infrastructure from @chat/infra, and talk to them over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureInfra, repoRoot, type Infra } from '@chat/infra';

export { repoRoot };

export type ServiceName = 'auth' | 'chat' | 'gateway';

export interface RunningService {
  name: ServiceName;
  port: number;
  url: string;
  proc: ChildProcess;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** Sends a signal and waits for exit; resolves with the exit code (or signal name). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string | null>;
  exited: Promise<number | string | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastErr = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** A fresh ES256 PKCS#8 PEM, so several Auth processes in one test share a signing key. */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function uniqueName(prefix = 'u'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export async function startService(name: ServiceName, env: Record<string, string | undefined>, opts: { port?: number; readyPath?: string; timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<RunningService> {
  const port = opts.port ?? (await freePort());
  const entry = join(repoRoot(), 'services', name, 'src', 'index.ts');
  let out = '';
  const proc = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', ...(opts.nodeArgs ?? []), entry], {
    cwd: join(repoRoot(), 'services', name),
    // Each service reads MONGO_DB; a stack carries one database name per service.
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...env, MONGO_DB: env[`${name.toUpperCase()}_MONGO_DB`] ?? env.MONGO_DB, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig)));
  const url = `http://127.0.0.1:${port}`;
  const svc: RunningService = {
    name,
    port,
    url,
    proc,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
  try {
    // Race the health poll against the process exiting, so a service that crashes at start
    // fails the test at once with its output instead of after the whole timeout.
    const died = exited.then((code) => {
      throw new Error(`${name} exited early (${code})`);
    });
    await Promise.race([
      died,
      waitFor(`${name} on ${url}${opts.readyPath ?? '/healthz'}`, async () => {
        const res = await fetch(url + (opts.readyPath ?? '/healthz')).catch(() => undefined);
        return res?.ok === true;
      }, opts.timeoutMs ?? 30_000, 100),
    ]);
    died.catch(() => {});
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${out.slice(-4000)}`);
  }
  return svc;
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** A JSON request; `body` is serialized unless `raw` is given. */
export async function request<T = any>(url: string, opts: { method?: string; body?: unknown; raw?: string | Uint8Array; token?: string; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array | undefined = opts.raw;
  if (opts.body !== undefined && body === undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  // The cast: under the DOM lib (the web client's browser tests import this) fetch's body type
  // refuses a Uint8Array that might sit on a SharedArrayBuffer; Node's fetch takes any.
  const res = await fetch(url, { method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body: body as RequestInit['body'] });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as T, headers: res.headers, text };
}

export interface TestUser {
  id: string;
  username: string;
  password: string;
  token: string;
}

export async function registerAndLogin(authUrl: string, username = uniqueName(), password = 'correct horse battery'): Promise<TestUser> {
  const reg = await request(`${authUrl}/register`, { body: { username, password } });
  if (reg.status !== 201) throw new Error(`register ${username}: ${reg.status} ${reg.text}`);
  const login = await request(`${authUrl}/login`, { body: { username, password } });
  if (login.status !== 200) throw new Error(`login ${username}: ${login.status} ${login.text}`);
  return { id: reg.body.id, username: reg.body.username, password, token: login.body.token };
}

/** Environment shared by every service of one test stack. */
export interface StackEnv {
  infra: Infra;
  env: Record<string, string>;
}

/**
 * Infra plus the variables that make services of one test agree: one signing key, one service
 * secret, and database names unique to this run so tests do not see each other's data.
 */
export async function stackEnv(overrides: Record<string, string> = {}): Promise<StackEnv> {
  const infra = await ensureInfra({ quiet: true });
  const run = randomBytes(4).toString('hex');
  return {
    infra,
    env: {
      MONGO_URL: infra.mongoUrl,
      AMQP_URL: infra.amqpUrl,
      AUTH_MONGO_DB: `t_auth_${run}`,
      CHAT_MONGO_DB: `t_chat_${run}`,
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      SERVICE_TOKEN_SECRET: randomBytes(24).toString('hex'),
      BCRYPT_COST: '4',
      ...overrides,
    },
  };
}

export interface Stack {
  auth: RunningService;
  chat: RunningService;
  gateway: RunningService;
  /** The environment every service of this stack shares. */
  env: Record<string, string>;
  /**
   * Stops a service with `signal` (SIGKILL by default: a crash) and starts it again on the
   * same port with the same environment, so clients reconnect to the address they know.
   */
  restart(name: ServiceName, signal?: NodeJS.Signals): Promise<RunningService>;
  stop(): Promise<void>;
}

/**
 * Auth, Chat and Gateway as real processes on free ports, sharing one test environment.
 * `env` is added to every service's environment (for example CORS_ORIGINS, ALLOWED_ORIGINS).
 */
export async function startStack(options: { env?: Record<string, string> } = {}): Promise<Stack> {
  const { env: base } = await stackEnv();
  const env = { ...base, ...(options.env ?? {}) };
  const envOf = (name: ServiceName, s: Partial<Record<ServiceName, RunningService>>) =>
    name === 'auth' ? env : name === 'chat' ? { ...env, AUTH_URL: s.auth!.url } : { ...env, AUTH_URL: s.auth!.url, CHAT_URL: s.chat!.url };
  const readyPath = (name: ServiceName) => (name === 'auth' ? undefined : '/readyz');
  const services: Partial<Record<ServiceName, RunningService>> = {};
  for (const name of ['auth', 'chat', 'gateway'] as const) {
    services[name] = await startService(name, envOf(name, services), { readyPath: readyPath(name) });
  }
  const stack: Stack = {
    get auth() {
      return services.auth!;
    },
    get chat() {
      return services.chat!;
    },
    get gateway() {
      return services.gateway!;
    },
    env,
    async restart(name, signal = 'SIGKILL') {
      const old = services[name]!;
      await old.stop(signal);
      services[name] = await startService(name, envOf(name, services), { port: old.port, readyPath: readyPath(name) });
      return services[name]!;
    },
    async stop() {
      await Promise.all([services.gateway!.stop(), services.chat!.stop(), services.auth!.stop()]);
    },
  };
  return stack;
}
