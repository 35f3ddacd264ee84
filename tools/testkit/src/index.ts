/**
 * Helpers for integration tests, system tests and the benchmark: start real service processes
 * on free ports against the real infrastructure from @chat/infra (startStack is the one way to
 * do it), and talk to them over HTTP, WebSocket and /metrics (on each process's METRICS_PORT),
 * CORS included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { ensureInfra, repoRoot, type Infra } from '@chat/infra';

export { repoRoot };
export { TestClient, wsUrl, type Closed } from './ws-client.ts';
export { accessControlHeaders, assertCorsGranted, assertPreflightGranted, preflight } from './cors.ts';

export type ServiceName = 'auth' | 'chat' | 'gateway';

export interface RunningService {
  name: ServiceName;
  port: number;
  url: string;
  /** METRICS_PORT: GET /metrics is served there, not on `port`. */
  metricsPort: number;
  /** `http://127.0.0.1:<metricsPort>`: GET `${metricsUrl}/metrics`. */
  metricsUrl: string;
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

export interface StartOptions {
  /** Default: a free port. */
  port?: number;
  /** METRICS_PORT; default: the environment's METRICS_PORT, or a free port. */
  metricsPort?: number;
  /** The path polled until it answers 2xx; default /healthz. */
  readyPath?: string;
  timeoutMs?: number;
  /** Node flags before the entry point (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** Spawns `services/<name>/src/index.ts` through tsx with the test defaults under `env`. */
function spawnService(name: ServiceName, env: Record<string, string | undefined>, port: number, metricsPort: number, nodeArgs: string[] = []): ChildProcess {
  const dir = join(repoRoot(), 'services', name);
  return spawn(process.execPath, ['--conditions=development', '--import', 'tsx', ...nodeArgs, join(dir, 'src', 'index.ts')], {
    cwd: dir,
    // Each service reads MONGO_DB; a stack carries one database name per service.
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...env, MONGO_DB: env[`${name.toUpperCase()}_MONGO_DB`] ?? env.MONGO_DB, PORT: String(port), METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** One service process on a free port (or `opts.port`), resolved once `readyPath` answers. */
export async function startService(name: ServiceName, env: Record<string, string | undefined>, opts: StartOptions = {}): Promise<RunningService> {
  const port = opts.port ?? (await freePort());
  const metricsPort = opts.metricsPort ?? (env.METRICS_PORT ? Number(env.METRICS_PORT) : await freePort());
  let out = '';
  const proc = spawnService(name, env, port, metricsPort, opts.nodeArgs);
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig)));
  const url = `http://127.0.0.1:${port}`;
  const svc: RunningService = {
    name,
    port,
    url,
    metricsPort,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
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

/**
 * Runs a service for a start that is expected to fail: resolves with its exit code (null when it
 * was still running after `timeoutMs` and got killed) and its output. startService's wait would
 * only give up after its full timeout. PORT and METRICS_PORT are 0 (free ports) unless `ports` names them.
 */
export function runUntilExit(
  name: ServiceName,
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
  ports: { port?: number; metricsPort?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const proc = spawnService(name, env, ports.port ?? 0, ports.metricsPort ?? 0);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
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

/**
 * A metric's value from a service's /metrics (on its METRICS_PORT), summed over the series whose
 * labels include `labels`. It takes the process, not a URL: the service's own URL has no /metrics.
 */
export async function metricValue(from: Pick<RunningService, 'metricsUrl'>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await request(`${from.metricsUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${from.metricsUrl}/metrics answered ${res.status}`);
  const text = res.text;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

export interface TestUser {
  id: string;
  username: string;
  password: string;
  token: string;
}

/**
 * A request retried as a client is told to (README, "How a client should reconnect"): a 503
 * (Auth shedding a burst of registrations beyond its admission bound, or its bcrypt queue) is
 * tried again after its Retry-After, jittered, up to 10 times; any other answer is returned.
 */
async function withRetryAfter(call: () => Promise<JsonResponse>): Promise<JsonResponse> {
  for (let attempt = 1; ; attempt++) {
    const res = await call();
    if (res.status !== 503 || attempt >= 10) return res;
    const retryAfterS = Number(res.headers.get('retry-after') ?? '1') || 1;
    await sleep(retryAfterS * 1000 * (1 + Math.random() / 2));
  }
}

export async function registerAndLogin(authUrl: string, username = uniqueName(), password = 'correct horse battery'): Promise<TestUser> {
  // A 503 is refused before anything is stored (admission, the bcrypt queue), so registering again is safe.
  const reg = await withRetryAfter(() => request(`${authUrl}/register`, { body: { username, password } }));
  if (reg.status !== 201) throw new Error(`register ${username}: ${reg.status} ${reg.text}`);
  const login = await withRetryAfter(() => request(`${authUrl}/login`, { body: { username, password } }));
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
      // Auth's abuse limits, opened wide: every test client (and the benchmark's 5,000
      // registrations in seconds) comes from 127.0.0.1, so production's per-address rates and
      // bcrypt queue would refuse them. Tests of those limits set their own small values.
      ADDRESS_ATTEMPTS_PER_MINUTE: '1000000',
      ADDRESS_REGISTRATIONS_PER_HOUR: '1000000',
      BCRYPT_MAX_QUEUED: '100000',
      ...overrides,
    },
  };
}

/**
 * What every test gateway starts with, under the stack's own env: a queue name tests can find
 * (`gateway.test-gw.<random>`), a drain that fits a test's timeout, and an immediate JWKS
 * refetch for an unknown key id.
 */
export const TEST_GATEWAY_ENV: Readonly<Record<string, string>> = { POD_NAME: 'test-gw', SHUTDOWN_GRACE_MS: '8000', JWKS_COOLDOWN_MS: '0' };

export interface StackOptions {
  /**
   * The services to start now, in this order (Auth first: the others need its URL). Default:
   * all three. `[]` gives the environment only, for processes started one by one with start().
   */
  services?: ServiceName[];
  /** How many gateway processes to start when `services` has the gateway; default 1. */
  gateways?: number;
  /** Added to every service's environment, and part of `stack.env`. */
  env?: Record<string, string>;
  /** Added to one service's environment (every process of it), e.g. `{ gateway: { REPLAY_LIMIT: '20' } }`. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** What each gateway starts with under `env` and `serviceEnv`; default TEST_GATEWAY_ENV, `{}` for the service's own defaults. */
  gatewayDefaults?: Record<string, string>;
  /** Node flags for the processes of one service (e.g. `--cpu-prof`). */
  nodeArgs?: Partial<Record<ServiceName, string[]>>;
  /** How long each process may take to become ready; default 30 s. */
  timeoutMs?: number;
}

export interface StackStartOptions {
  /** Added to what the service gets from the stack. */
  env?: Record<string, string>;
  port?: number;
  metricsPort?: number;
  nodeArgs?: string[];
  timeoutMs?: number;
}

export interface Stack {
  readonly infra: Infra;
  /** The environment every service of this stack shares (database names, keys, secrets, `env`). */
  readonly env: Record<string, string>;
  /** The first process of each service (the one `restart` replaces); throws when there is none. */
  readonly auth: RunningService;
  readonly chat: RunningService;
  readonly gateway: RunningService;
  /** Every gateway this stack started, in order. */
  readonly gateways: RunningService[];
  /** The environment a new process of `name` gets: `env`, the URLs of Auth and Chat, its `serviceEnv`. */
  envOf(name: ServiceName): Record<string, string>;
  /** Starts one more process of a service (a replica, a second gateway, a restarted one on a known port). */
  start(name: ServiceName, opts?: StackStartOptions): Promise<RunningService>;
  /**
   * Stops a service's first process with `signal` (SIGKILL by default: a crash) and starts it
   * again on the same ports with the same environment plus `env`, so clients reconnect to the
   * address they know.
   */
  restart(name: ServiceName, signal?: NodeJS.Signals, env?: Record<string, string>): Promise<RunningService>;
  /** A new user registered and logged in through this stack's Auth. */
  user(prefix?: string): Promise<TestUser>;
  /** This stack's database of Auth or Chat, to check what is stored. */
  db(service: 'auth' | 'chat'): Promise<Db>;
  /** Stops every process this stack started (SIGTERM) and drops its databases. */
  stop(): Promise<void>;
}

/**
 * Auth, Chat and Gateway (or the ones `services` names) as real processes on free ports,
 * sharing one test environment (stackEnv): the one way tests and the benchmark start them.
 * A process counts as started when Auth's /healthz or Chat's and the gateway's /readyz answers.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const { env: base, infra } = await stackEnv();
  const env = { ...base, ...(options.env ?? {}) };
  const running: Record<ServiceName, RunningService[]> = { auth: [], chat: [], gateway: [] };
  const startedWith = new Map<RunningService, StackStartOptions>();
  const all: RunningService[] = [];
  let mongo: MongoClient | undefined;

  const first = (name: ServiceName): RunningService => {
    const svc = running[name][0];
    if (!svc) throw new Error(`this stack has no ${name} process`);
    return svc;
  };
  const envOf = (name: ServiceName): Record<string, string> => ({
    ...(name === 'gateway' ? (options.gatewayDefaults ?? TEST_GATEWAY_ENV) : {}),
    ...env,
    ...(name !== 'auth' && running.auth[0] ? { AUTH_URL: running.auth[0].url } : {}),
    // A gateway without Chat gets an address where nothing listens (replays then fail).
    ...(name === 'gateway' ? { CHAT_URL: running.chat[0]?.url ?? 'http://127.0.0.1:9' } : {}),
    ...(options.serviceEnv?.[name] ?? {}),
  });
  const launch = async (name: ServiceName, opts: StackStartOptions): Promise<RunningService> => {
    const svc = await startService(name, { ...envOf(name), ...(opts.env ?? {}) }, {
      port: opts.port,
      metricsPort: opts.metricsPort,
      readyPath: name === 'auth' ? '/healthz' : '/readyz',
      timeoutMs: opts.timeoutMs ?? options.timeoutMs,
      nodeArgs: opts.nodeArgs ?? options.nodeArgs?.[name],
    });
    startedWith.set(svc, opts);
    all.push(svc);
    return svc;
  };

  const stack: Stack = {
    infra,
    env,
    get auth() {
      return first('auth');
    },
    get chat() {
      return first('chat');
    },
    get gateway() {
      return first('gateway');
    },
    gateways: running.gateway,
    envOf,
    async start(name, opts = {}) {
      const svc = await launch(name, opts);
      running[name].push(svc);
      return svc;
    },
    async restart(name, signal = 'SIGKILL', extraEnv = {}) {
      const old = first(name);
      await old.stop(signal);
      const opts = startedWith.get(old) ?? {};
      const svc = await launch(name, { ...opts, env: { ...(opts.env ?? {}), ...extraEnv }, port: old.port, metricsPort: old.metricsPort });
      running[name][0] = svc;
      return svc;
    },
    user: (prefix = 'u') => registerAndLogin(first('auth').url, uniqueName(prefix)),
    async db(service) {
      mongo ??= new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
      return mongo.db(service === 'auth' ? env.AUTH_MONGO_DB : env.CHAT_MONGO_DB);
    },
    async stop() {
      await Promise.all(all.map((svc) => svc.stop('SIGTERM', 10_000).catch(() => undefined)));
      mongo ??= new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
      for (const name of [env.CHAT_MONGO_DB, env.AUTH_MONGO_DB]) await mongo.db(name).dropDatabase().catch(() => undefined);
      await mongo.close().catch(() => undefined);
      mongo = undefined;
    },
  };

  try {
    for (const name of options.services ?? (['auth', 'chat', 'gateway'] as const)) {
      const count = name === 'gateway' ? (options.gateways ?? 1) : 1;
      for (let i = 0; i < count; i++) await stack.start(name);
    }
  } catch (err) {
    await Promise.all(all.map((svc) => svc.stop('SIGKILL')));
    throw err;
  }
  return stack;
}
