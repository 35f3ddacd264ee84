/**
 * The system under test: real Auth, Chat and Gateway processes started through @chat/testkit's
 * startStack against the infrastructure of @chat/infra, the reference `ws` gateway of this
 * package, and the users the scenarios need (registered through Auth, so the gateways can
 * resolve them; tokens signed with the stack's own key and Auth's published `kid`, so minting
 * 5k of them costs no bcrypt).
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { freePort, waitFor, type ServiceName, type Stack } from '@chat/testkit';
import type { ProgressLine } from './progress.js';

export const JWT_ISSUER = 'chat-auth';
export const JWT_AUDIENCE = 'chat';

/** A process under test: a service of ours, or the reference gateway. */
export interface Proc {
  name: string;
  url: string;
  port: number;
  /**
   * Where GET /metrics answers: a service of ours serves it on its METRICS_PORT, never on `url`;
   * the bench's own servers (the `ws` gateway, the raw push servers, the origin) on `url`.
   */
  metricsUrl: string;
  pid: number;
  /** Directory its --cpu-prof output goes to, when profiled. */
  profileDir?: string;
  /** Port of its inspector (--inspect), when started with one: scenario 5 forces a full GC through it. */
  inspectPort?: number;
  stop(): Promise<unknown>;
  output(): string;
}

interface ProcOpts {
  /** --cpu-prof into a fresh directory (Proc.profileDir). */
  profile?: boolean;
  /** --inspect on a free loopback port (Proc.inspectPort). */
  inspect?: boolean;
}

/** The node flags `opts` asks for, and where their output or port is. */
async function diagnosticArgs(opts: ProcOpts): Promise<{ profileDir?: string; inspectPort?: number; args: string[] }> {
  const r: { profileDir?: string; inspectPort?: number; args: string[] } = { args: [] };
  if (opts.profile) {
    r.profileDir = mkdtempSync(join(tmpdir(), 'chat-bench-prof-'));
    r.args.push('--cpu-prof', `--cpu-prof-dir=${r.profileDir}`);
  }
  if (opts.inspect) {
    r.inspectPort = await freePort();
    r.args.push(`--inspect=127.0.0.1:${r.inspectPort}`);
  }
  return r;
}

/** One more process of a service in `stack` (with `env` on top of what the stack gives it). */
export async function startOurs(stack: Stack, name: ServiceName, opts: ProcOpts & { env?: Record<string, string>; label?: string } = {}): Promise<Proc> {
  const diag = await diagnosticArgs(opts);
  const svc = await stack.start(name, { env: opts.env, nodeArgs: diag.args, timeoutMs: 60_000 });
  return { name: opts.label ?? name, url: svc.url, port: svc.port, metricsUrl: svc.metricsUrl, pid: svc.proc.pid!, profileDir: diag.profileDir, inspectPort: diag.inspectPort, stop: () => svc.stop('SIGTERM', 20_000), output: () => svc.output() };
}

const WS_GATEWAY = fileURLToPath(new URL('./ws-gateway.ts', import.meta.url));
const ORIGIN = fileURLToPath(new URL('./origin/server.ts', import.meta.url));
const RAW_PUSH = { uws: fileURLToPath(new URL('./raw-push-uws.ts', import.meta.url)), ws: fileURLToPath(new URL('./raw-push-ws.ts', import.meta.url)) } as const;

/** A TypeScript file of this package as a child process on a free port, ready when its /readyz answers. */
async function startScript(name: string, file: string, env: Record<string, string>, opts: ProcOpts = {}): Promise<Proc> {
  const diag = await diagnosticArgs(opts);
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', ...diag.args, file], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(name, async () => {
      if (proc.exitCode !== null) throw new Error('exited early');
      return (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true;
    }, 30_000, 100);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${out.slice(-3000)}`);
  }
  return {
    name,
    url,
    port,
    metricsUrl: url,
    pid: proc.pid!,
    profileDir: diag.profileDir,
    inspectPort: diag.inspectPort,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The reference `ws` gateway (tools/bench/src/ws-gateway.ts) as a child process. */
export async function startWsGateway(env: Record<string, string>, opts: ProcOpts = {}): Promise<Proc> {
  return startScript('ws-gateway', WS_GATEWAY, { ...env, POD_NAME: 'ws-ref' }, opts);
}

/** A raw push server of scenario 11 (tools/bench/src/raw-push-uws.ts or raw-push-ws.ts) as a child process. */
export async function startRawPush(kind: keyof typeof RAW_PUSH, opts: ProcOpts = {}): Promise<Proc> {
  return startScript(`raw-push-${kind}`, RAW_PUSH[kind], {}, opts);
}

/**
 * The origin's re-implementation (tools/bench/src/origin/server.ts) as a child process, against
 * `mongoUrl`/`amqpUrl` and verifying tokens against the JWKS of the Auth at `authUrl`.
 */
export async function startOrigin(env: { mongoUrl: string; amqpUrl: string; authUrl: string; db: string }, opts: ProcOpts = {}): Promise<Proc> {
  return startScript('origin', ORIGIN, { MONGO_URL: env.mongoUrl, AMQP_URL: env.amqpUrl, AUTH_URL: env.authUrl, ORIGIN_MONGO_DB: env.db, JWT_ISSUER, JWT_AUDIENCE }, opts);
}

/** Waits until a gateway's /readyz says it consumes from the broker. */
export async function waitReady(p: Proc, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${p.name} ready`, async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.ok === true, timeoutMs, 100);
}

/** A Prometheus counter or gauge from /metrics (at Proc.metricsUrl), summed over its label sets. */
export async function metricValue(p: Proc, name: string): Promise<number | undefined> {
  const res = await fetch(`${p.metricsUrl}/metrics`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const text = await res.text();
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

/**
 * Scenario 3's events: from one sender to each of the first `targets` users, with their ids, so
 * injected events carry cursors as Chat publishes them (InjectCommand.ids).
 */
export function eventPairs(sender: BenchUser, users: readonly BenchUser[], targets: number): { pairs: Array<[string, string]>; ids: Record<string, string> } {
  const to = users.slice(0, targets);
  return {
    pairs: to.map((u) => [sender.username, u.username]),
    ids: Object.fromEntries([sender, ...to].map((u) => [u.username, u.id])),
  };
}

export interface BenchUser {
  id: string;
  username: string;
}

/**
 * Registers up to `count` users through Auth's real `POST /register` (bcrypt at the stack's
 * cost), `concurrency` at a time over keep-alive connections, and stops starting new ones at
 * `deadline` (performance.now() time) so a slow Auth cannot eat the run's budget. Returns the
 * users registered, in order.
 */
export async function registerUsers(authUrl: string, prefix: string, count: number, concurrency: number, progress?: ProgressLine, deadline = Number.POSITIVE_INFINITY): Promise<{ users: BenchUser[]; elapsedMs: number; firstRate: number; lastRate: number }> {
  const doneAt: number[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const users: Array<BenchUser | undefined> = new Array(count).fill(undefined);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const registerOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ username: `${prefix}${i}`, password: `bench-password-${i}` });
      const req = http.request(`${authUrl}/register`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode !== 201) return reject(new Error(`register ${prefix}${i}: ${res.statusCode} ${text.slice(0, 200)}`));
          const u = JSON.parse(text) as BenchUser;
          users[i] = { id: u.id, username: u.username };
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  const lane = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      let attempt = 0;
      while (true) {
        try {
          await registerOne(i);
          break;
        } catch (err) {
          if (++attempt >= 3) throw err;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
      done++;
      doneAt.push(performance.now());
      progress?.update({ rate: done / ((performance.now() - t0) / 1000), extra: `registered ${done}/${count}` });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
    progress?.done();
  }
  // Registrations per second over the first and the last tenth: shows whether registering slows as the collection grows.
  const tenth = Math.max(1, Math.floor(doneAt.length / 10));
  const rate = (a: number, b: number) => (tenth / Math.max(1, b - a)) * 1000;
  const firstRate = doneAt.length > tenth ? rate(t0, doneAt[tenth - 1]!) : NaN;
  const lastRate = doneAt.length > tenth ? rate(doneAt[doneAt.length - 1 - tenth]!, doneAt[doneAt.length - 1]!) : NaN;
  return { users: users.filter((u) => u !== undefined), elapsedMs: performance.now() - t0, firstRate, lastRate };
}

/**
 * Signs user tokens exactly as Auth does (ES256, Auth's `kid`, iss/aud/sub/username/iat/exp)
 * with the stack's private key. The `kid` is taken from Auth's live JWKS entry whose public
 * point matches the key, so a mismatch fails here and not as 10k rejected sockets.
 */
export async function createTokenMinter(authUrl: string, privateKeyPem: string, ttlSeconds = 7200): Promise<(u: BenchUser) => Promise<string>> {
  const privateKey = createPrivateKey(privateKeyPem);
  const pub = createPublicKey(privateKey).export({ format: 'jwk' });
  const jwks = (await (await fetch(`${authUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; x: string; y: string }> };
  const match = jwks.keys.find((k) => k.x === pub.x && k.y === pub.y);
  if (!match) throw new Error("Auth's JWKS does not publish the stack's signing key");
  const now = Math.floor(Date.now() / 1000);
  return (u) =>
    new SignJWT({ username: u.username })
      .setProtectedHeader({ alg: 'ES256', kid: match.kid, typ: 'JWT' })
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setSubject(u.id)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(privateKey);
}
