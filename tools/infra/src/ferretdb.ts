// Local MongoDB-wire server: FerretDB v1.24.2 built from tools/ferretdb into tools/bin/ferretdb,
// started as a detached process, on our private PostgreSQL (pg-local.ts) or, when PostgreSQL
// cannot be installed here, on SQLite.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mongoPing } from './probe.js';
import { FERRET_POOL_MAX_CONNS, PostgresUnavailable, postgresAlive, startPostgres } from './pg-local.js';
import { infraDir, isDefaultInstance, readState, repoRoot, updateState, type LocalMongoState } from './state.js';
import { indent, log, notice, pickPort, pidAlive, pidIsOurs, run, sleep, spawnDetached, tailFile, terminate, waitPidExit, which } from './util.js';

const SOURCES = ['main.go', 'go.mod', 'go.sum'];

export function ferretSrcDir(): string {
  return join(repoRoot(), 'tools', 'ferretdb');
}
export function ferretBinary(): string {
  return join(repoRoot(), 'tools', 'bin', 'ferretdb');
}
function stampPath(): string {
  return `${ferretBinary()}.stamp`;
}

function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of SOURCES) {
    const p = join(ferretSrcDir(), f);
    if (!existsSync(p)) throw new Error(`${p} is missing: the FerretDB launcher sources (tools/ferretdb) are incomplete. Restore them from git.`);
    h.update(f).update('\0').update(readFileSync(p)).update('\0');
  }
  return h.digest('hex');
}

function findGo(): string | undefined {
  return process.env.GO ?? which('go', ['/usr/local/go/bin', join(process.env.HOME ?? '/root', 'go', 'bin'), '/usr/lib/go/bin']);
}

/** True when tools/bin/ferretdb exists and was built from the current sources. */
export function ferretUpToDate(): boolean {
  try {
    return existsSync(ferretBinary()) && readFileSync(stampPath(), 'utf8').trim() === sourceHash();
  } catch {
    return false;
  }
}

/** Build tools/bin/ferretdb unless it is up to date (hash stamp of main.go/go.mod/go.sum). */
export async function buildFerret(): Promise<{ built: boolean; ms: number }> {
  const t0 = Date.now();
  const hash = sourceHash();
  if (ferretUpToDate()) return { built: false, ms: 0 };
  const go = findGo();
  if (!go)
    throw new Error(
      'Cannot build FerretDB: the Go toolchain (>= 1.24) was not found on PATH or in /usr/local/go/bin. ' +
        'Install Go (https://go.dev/dl), or set MONGO_URL=mongodb://... to use an existing MongoDB, or start a Docker engine.',
    );
  const first = !existsSync(ferretBinary());
  notice(
    `${first ? 'building' : 'rebuilding (sources changed)'} FerretDB v1.24.2 into ${ferretBinary()}` +
      `${first ? ' (a first build with an empty Go cache downloads modules and compiles for 1.5–2.5 min)' : ''}…`,
  );
  mkdirSync(join(repoRoot(), 'tools', 'bin'), { recursive: true });
  const tmp = `${ferretBinary()}.${process.pid}.tmp`;
  const r = await run(go, ['build', '-trimpath', '-o', tmp, '.'], {
    cwd: ferretSrcDir(),
    env: { ...process.env, CGO_ENABLED: '0' },
    timeoutMs: 30 * 60_000,
  });
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(
      `Building FerretDB failed (${go} build in ${ferretSrcDir()}, exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${indent((r.stderr || r.stdout).trim().split('\n').slice(-30).join('\n'))}\n` +
        'It needs network access to the Go module proxy on the first build (or a warm module cache). ' +
        'Alternatively set MONGO_URL=mongodb://... to use an existing MongoDB.',
    );
  }
  chmodSync(tmp, 0o755);
  renameSync(tmp, ferretBinary());
  writeFileSync(stampPath(), hash + '\n');
  const ms = Date.now() - t0;
  notice(`built FerretDB in ${(ms / 1000).toFixed(1)} s`);
  return { built: true, ms };
}

const url = (port: number) => `mongodb://127.0.0.1:${port}/`;

async function waitReady(port: number, pid: number, logFile: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    const p = await mongoPing('127.0.0.1', port, 1000);
    if (p.ok) return;
    last = p.reason;
    if (!pidAlive(pid))
      throw new Error(`FerretDB (pid ${pid}) exited during startup. Log ${logFile}:\n${indent(tailFile(logFile, 15))}`);
    await sleep(100);
  }
  throw new Error(`FerretDB did not answer ping on 127.0.0.1:${port} within ${timeoutMs / 1000} s (${last}). See the log ${logFile}:\n${indent(tailFile(logFile, 15))}`);
}

/** Is the recorded FerretDB alive and answering (its ping reaches PostgreSQL too)? */
export async function ferretHealthy(st: LocalMongoState | undefined): Promise<boolean> {
  if (!st || st.stopped || st.paused || !pidIsOurs(st.pid, 'ferretdb')) return false;
  if (st.backend === 'postgresql' && !postgresAlive(readState().postgres)) return false;
  return (await mongoPing('127.0.0.1', st.port, 2000)).ok;
}

type Backend = { backend: 'postgresql'; url: string } | { backend: 'sqlite' };

/**
 * PostgreSQL unless it cannot be installed here (or CHAT_INFRA_MONGO_BACKEND=sqlite asks for
 * SQLite). Starts our cluster, or reuses it: it keeps running while FerretDB is stopped.
 */
async function backend(): Promise<Backend> {
  const wanted = process.env.CHAT_INFRA_MONGO_BACKEND?.trim();
  if (wanted && wanted !== 'postgresql' && wanted !== 'sqlite')
    throw new Error(`CHAT_INFRA_MONGO_BACKEND=${wanted} is not a backend: use postgresql (the default) or sqlite`);
  if (wanted === 'sqlite') return { backend: 'sqlite' };
  try {
    return { backend: 'postgresql', url: (await startPostgres()).url };
  } catch (e) {
    if (!(e instanceof PostgresUnavailable) || wanted === 'postgresql') throw e;
    notice(
      `FerretDB falls back to its SQLite backend: ${e.message}. SQLite is much slower: FerretDB pushes no filter down to it ` +
        '(every query decodes the whole collection in Go, 2.5 s at 40,000 entries), where PostgreSQL serves equality filters from indexes. ' +
        'Install PostgreSQL (apt-get install postgresql as root) and run `make infra-down` to switch.',
    );
    return { backend: 'sqlite' };
  }
}

/** Start (or restart after stopMongo) our FerretDB; keeps the recorded port when it is free. */
export async function startFerret(): Promise<LocalMongoState> {
  const prev = readState().mongo;
  const prevLocal = prev?.source === 'local' ? prev : undefined;
  if (prevLocal && pidIsOurs(prevLocal.pid, 'ferretdb')) {
    if (await ferretHealthy({ ...prevLocal, stopped: false })) {
      const st = { ...prevLocal, stopped: false };
      updateState((s) => (s.mongo = st));
      return st;
    }
    await terminate(prevLocal.pid!); // alive but not answering: replace it
  }
  await buildFerret();
  const store = await backend();
  const dataDir = join(infraDir(), 'ferretdb', 'data');
  const logDir = join(infraDir(), 'ferretdb');
  mkdirSync(store.backend === 'sqlite' ? dataDir : logDir, { recursive: true });
  const logFile = join(logDir, 'ferretdb.log');
  const port = await pickPort([prevLocal?.port, isDefaultInstance() ? 27017 : undefined]);
  if (!prevLocal && port !== 27017 && isDefaultInstance()) log(`port 27017 is taken; FerretDB will use ${port}`);
  if (prevLocal && prevLocal.port !== port) log(`FerretDB's previous port ${prevLocal.port} is taken now; using ${port} (the URL changes)`);

  const storeArgs = store.backend === 'postgresql' ? ['-postgresql-url', `${store.url}?pool_max_conns=${FERRET_POOL_MAX_CONNS}`] : ['-sqlite-dir', dataDir];
  // FerretDB serves its own CPU profile (Go pprof) on loopback, so that `make bench` can say
  // where the database's time went when a goal is missed. A local development server only.
  const pprofPort = await pickPort([], [port]);
  const pid = spawnDetached(ferretBinary(), ['-listen-addr', `127.0.0.1:${port}`, ...storeArgs, '-log-level', 'warn', '-pprof-addr', `127.0.0.1:${pprofPort}`], {
    cwd: logDir,
    logFile,
  });
  const st: LocalMongoState = {
    source: 'local',
    url: url(port),
    port,
    pid,
    backend: store.backend,
    ...(store.backend === 'postgresql' ? { postgresqlUrl: store.url } : {}),
    dataDir: store.backend === 'sqlite' ? dataDir : logDir,
    logFile,
    binary: ferretBinary(),
    pprofUrl: `http://127.0.0.1:${pprofPort}`,
    startedAt: new Date().toISOString(),
  };
  updateState((s) => (s.mongo = st)); // record the pid before waiting, so `down` can find it
  try {
    await waitReady(port, pid, logFile);
  } catch (e) {
    await terminate(pid, 3000);
    throw e;
  }
  return st;
}

/** SIGSTOP or SIGCONT to our FerretDB (pauseMongo: a database that hangs; PostgreSQL under it runs on). */
export function signalFerret(st: LocalMongoState, signal: 'SIGSTOP' | 'SIGCONT'): void {
  if (!pidIsOurs(st.pid, 'ferretdb')) throw new Error(`FerretDB (pid ${st.pid}) is not running: nothing to ${signal === 'SIGSTOP' ? 'pause' : 'resume'}`);
  process.kill(st.pid!, signal);
}

/**
 * Our FerretDB crashes (killMongo): SIGKILL, so it closes nothing in order and its clients see
 * their connections reset; resolves once the process is gone, recorded as stopped so that
 * startMongo (or ensureInfra) starts it again over the same data. PostgreSQL under it runs on.
 */
export async function killFerret(): Promise<void> {
  const st = readState().mongo;
  if (st?.source !== 'local') return;
  if (!st.stopped && !pidIsOurs(st.pid, 'ferretdb')) throw new Error(`FerretDB (pid ${st.pid}) is not running: nothing to kill`);
  if (st.pid && pidIsOurs(st.pid, 'ferretdb')) {
    process.kill(st.pid, 'SIGKILL');
    if (!(await waitPidExit(st.pid, 5_000))) throw new Error(`FerretDB (pid ${st.pid}) still runs 5 s after SIGKILL`);
  }
  updateState((s) => {
    if (s.mongo?.source === 'local') s.mongo.stopped = true;
  });
}

/** Stop our FerretDB process (SIGTERM; data stays). PostgreSQL keeps running: see stopPostgres. */
export async function stopFerret(markStopped: boolean): Promise<void> {
  const st = readState().mongo;
  if (st?.source !== 'local') return;
  if (st.pid && pidIsOurs(st.pid, 'ferretdb')) await terminate(st.pid);
  updateState((s) => {
    if (markStopped && s.mongo?.source === 'local') s.mongo.stopped = true;
    else delete s.mongo;
  });
}
