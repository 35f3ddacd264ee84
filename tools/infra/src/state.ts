// Where things live, what we started (<infraDir>/state.json), and the
// cross-process lock that keeps two callers from starting servers twice.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, writeSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { notice, pidAlive, sleep } from './util.js';

let cachedRoot: string | undefined;

/** The monorepo root: the nearest ancestor of this file holding pnpm-workspace.yaml. */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return (cachedRoot = dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // Fallback: tools/infra/src -> repo
  return (cachedRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'));
}

/**
 * Directory for state, data and logs. `<repo>/.infra` unless CHAT_INFRA_DIR is set
 * (tests use that to get a private instance that does not disturb the shared one).
 */
export function infraDir(): string {
  const v = process.env.CHAT_INFRA_DIR;
  if (v) return isAbsolute(v) ? v : resolve(repoRoot(), v);
  return join(repoRoot(), '.infra');
}

/** Default ports (5672/27017) only for the default instance; private instances pick free ports. */
export function isDefaultInstance(): boolean {
  return infraDir() === join(repoRoot(), '.infra');
}

/** Short stable id of the infra dir (node names, container labels). */
export function instanceId(): string {
  return createHash('sha256').update(infraDir()).digest('hex').slice(0, 8);
}

export type Source = 'env' | 'testcontainers' | 'local';

export interface LocalRabbitState {
  source: 'local';
  url: string;
  port: number;
  distPort: number;
  nodeName: string;
  /** beam.smp pid (from RABBITMQ_PID_FILE) */
  pid?: number;
  /** the rabbitmq-server shell wrapper we spawned */
  wrapperPid?: number;
  home: string;
  logFile: string;
  startupLog: string;
  epmdStartedByUs: boolean;
  /** true after stopRabbit() (stop_app): node up, AMQP listener closed */
  appStopped?: boolean;
  /** true after pauseRabbit() (SIGSTOP): connections open, nothing answers */
  paused?: boolean;
  startedAt: string;
}
export interface LocalMongoState {
  source: 'local';
  url: string;
  port: number;
  /** the FerretDB process */
  pid?: number;
  /** FerretDB's storage: PostgreSQL (state.postgres), or SQLite when PostgreSQL could not be installed. Absent = sqlite (older state files). */
  backend?: 'postgresql' | 'sqlite';
  /** backend 'postgresql': the URL FerretDB was given (no password: the cluster trusts loopback) */
  postgresqlUrl?: string;
  /** backend 'sqlite': where its files are; backend 'postgresql': FerretDB's working directory */
  dataDir: string;
  logFile: string;
  binary: string;
  /** FerretDB's own CPU profile (Go pprof, 127.0.0.1 only): http://127.0.0.1:<port>/debug/pprof/profile?seconds=N */
  pprofUrl?: string;
  stopped?: boolean;
  /** true after pauseMongo() (SIGSTOP): connections open, nothing answers */
  paused?: boolean;
  startedAt: string;
}
/** The private PostgreSQL cluster under FerretDB. It keeps running while FerretDB is stopped by stopMongo. */
export interface LocalPostgresState {
  source: 'local';
  /** postgres://postgres@127.0.0.1:<port>/ferretdb (trust auth on loopback: there is no password) */
  url: string;
  port: number;
  /** the postmaster */
  pid?: number;
  /** /usr/lib/postgresql/<version>/bin */
  binDir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  /** the OS user running the server (`postgres` when we are root) */
  runAs: string;
  startedAt: string;
}
export interface ContainerState {
  source: 'testcontainers';
  url: string;
  host: string;
  port: number;
  containerId: string;
  image: string;
  managementUrl?: string;
  stopped?: boolean;
  /** true after pauseRabbit()/pauseMongo() (docker pause) */
  paused?: boolean;
  startedAt: string;
}
export type RabbitState = LocalRabbitState | ContainerState;
export type MongoState = LocalMongoState | ContainerState;

export interface State {
  version: 1;
  rabbit?: RabbitState;
  mongo?: MongoState;
  /** present while our local PostgreSQL runs (mongo.backend 'postgresql') */
  postgres?: LocalPostgresState;
}

export function statePath(): string {
  return join(infraDir(), 'state.json');
}

export function readState(): State {
  try {
    const s = JSON.parse(readFileSync(statePath(), 'utf8')) as State;
    if (s && s.version === 1) return s;
  } catch {
    /* missing or corrupt: start fresh */
  }
  return { version: 1 };
}

export function writeState(s: State): void {
  mkdirSync(infraDir(), { recursive: true });
  const tmp = `${statePath()}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, statePath());
}

export function updateState(fn: (s: State) => void): State {
  const s = readState();
  fn(s);
  writeState(s);
  return s;
}

// ---------------------------------------------------------------- locking

let chain: Promise<unknown> = Promise.resolve();
let held = 0;

/**
 * Serialise infra operations: in this process (promise chain) and across
 * processes (an O_EXCL lock file holding our pid; a dead holder's lock is taken over).
 */
export function withLock<T>(what: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const next = chain.then(async () => {
    const release = await acquireFileLock(what, timeoutMs);
    held++;
    try {
      return await fn();
    } finally {
      held--;
      release();
    }
  });
  chain = next.catch(() => undefined);
  return next;
}

export function lockHeld(): boolean {
  return held > 0;
}

async function acquireFileLock(what: string, timeoutMs: number): Promise<() => void> {
  mkdirSync(infraDir(), { recursive: true });
  const path = join(infraDir(), 'lock');
  const me = JSON.stringify({ pid: process.pid, host: hostname(), what, since: new Date().toISOString() });
  const end = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      const release = () => {
        try {
          const cur = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number };
          if (cur.pid === process.pid) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: { pid?: number; host?: string; what?: string } = {};
    try {
      holder = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      // Being written right now, or garbage. Garbage older than 10 s is stale.
      try {
        if (Date.now() - statSync(path).mtimeMs > 10_000) rmSync(path, { force: true });
      } catch {
        /* vanished */
      }
    }
    if (holder.pid && (holder.host === hostname() || !holder.host) && !pidAlive(holder.pid)) {
      rmSync(path, { force: true }); // holder died without releasing
      continue;
    }
    if (Date.now() > end)
      throw new Error(
        `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for the infra lock ${path} held by pid ${holder.pid} (${holder.what ?? '?'}). ` +
          `If that process is gone or stuck, delete the file and retry.`,
      );
    if (!told && holder.pid) {
      notice(`waiting for another infra operation (pid ${holder.pid}: ${holder.what ?? '?'}) to finish…`);
      told = true;
    }
    await sleep(150);
  }
}
