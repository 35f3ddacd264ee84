// Local PostgreSQL for FerretDB: a private cluster of Debian's postgresql package under
// <infraDir>/postgresql (own data dir, port, socket dir and log), with the GIN trigger of
// ferretdb-gin.sql installed in its `ferretdb` database.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraDir, instanceId, isDefaultInstance, readState, updateState, type LocalPostgresState } from './state.js';
import { aptInstall, executableReplaced, indent, log, notice, pickPort, pidAlive, pidIsOurs, run, sleep, spawnDetached, tailFile, waitPidExit, which } from './util.js';

/** The database FerretDB keeps every Mongo database in (one schema per Mongo database). */
export const FERRET_DATABASE = 'ferretdb';
/**
 * FerretDB's PostgreSQL pool size (its default is 50). A FerretDB command can hold one pooled
 * connection while it waits for another (its metadata registry), so once as many commands run
 * at once as the pool has connections, every one waits on another: measured here, 104 commands
 * stuck in the pool's Acquire and the server hung for good, at 800 sends/s from two services.
 * A larger pool keeps that out of reach of a development machine's load.
 */
export const FERRET_POOL_MAX_CONNS = 150;

/** Thrown when PostgreSQL is missing and cannot be installed here: the caller falls back to SQLite. */
export class PostgresUnavailable extends Error {}

/** The bin dir of the newest PostgreSQL in /usr/lib/postgresql (Debian's layout), or undefined. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = readdirSync(base).filter((v) => /^\d+$/.test(v));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(base, v, 'bin');
    if (['initdb', 'postgres', 'psql', 'pg_isready'].every((f) => existsSync(join(bin, f)))) return bin;
  }
  return undefined;
}

/** Install Debian's postgresql when missing (root with apt only); returns its bin dir. */
export async function ensurePostgresInstalled(): Promise<string> {
  const have = postgresBinDir();
  if (have) return have;
  const isRoot = process.getuid?.() === 0;
  const apt = which('apt-get');
  if (!isRoot || !apt)
    throw new PostgresUnavailable(
      `PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin) and ${!isRoot ? 'we are not root' : 'apt-get is not available'}, so it cannot be installed here ` +
        '(`sudo apt-get install postgresql` would do it on Debian/Ubuntu)',
    );
  mkdirSync(infraDir(), { recursive: true });
  const aptLog = join(infraDir(), 'apt-postgresql.log');
  notice(`PostgreSQL is not installed; installing it: apt-get update && apt-get install -y postgresql (log: ${aptLog})…`);
  const t0 = Date.now();
  const failed = await aptInstall(apt, 'postgresql', aptLog);
  if (failed) throw new PostgresUnavailable(failed);
  const bin = postgresBinDir();
  if (!bin) throw new PostgresUnavailable(`apt-get installed postgresql but no /usr/lib/postgresql/<version>/bin has initdb and postgres; see ${aptLog}`);
  notice(`installed PostgreSQL (${bin}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}

/** Our log (and, when the server user can reach it, the cluster) lives here. */
function pgDir(): string {
  return join(infraDir(), 'postgresql');
}

/**
 * Who runs initdb and postgres. Both refuse to run as root, so as root they run as Debian's
 * `postgres` user (the package creates it), which then owns the data dir; otherwise as us.
 */
function serverUser(): { uid: number; gid: number; name: string; home: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === 'postgres') return { uid: Number(uid), gid: Number(gid), name, home: home ?? '' };
  }
  throw new Error('We are root and PostgreSQL refuses to run as root, but there is no `postgres` user (Debian\'s postgresql package creates it): reinstall postgresql-common.');
}

/** Make dir (and what we create in it) belong to the server user. */
function own(path: string): void {
  const u = serverUser();
  if (u) chownSync(path, u.uid, u.gid);
}

function asServer(): { uid?: number; gid?: number } {
  const u = serverUser();
  return u ? { uid: u.uid, gid: u.gid } : {};
}

/**
 * Where the cluster (data dir and unix socket) lives: <infraDir>/postgresql, unless we are root
 * and the `postgres` user cannot reach it (a clone under /root, or in a 0700 mktemp dir: some
 * parent is not searchable by others). Then it lives in that user's home, one dir per instance,
 * so the next start finds it again. The log stays under <infraDir> either way (we open it).
 */
async function clusterDir(): Promise<string> {
  mkdirSync(pgDir(), { recursive: true });
  const u = serverUser();
  if (!u) return pgDir();
  const r = await run('/bin/sh', ['-c', 'test -x "$1"', 'sh', pgDir()], { ...asServer(), cwd: '/', timeoutMs: 5000 });
  if (r.code === 0) return pgDir();
  const home = u.home && u.home !== '/' && existsSync(u.home) ? u.home : undefined;
  if (!home)
    throw new Error(
      `PostgreSQL runs as the \`postgres\` user (it refuses root), which cannot enter ${pgDir()} (a parent directory is not searchable by others) ` +
        'and has no home directory to use instead: chmod o+x the parents, or set CHAT_INFRA_DIR to a directory it can reach.',
    );
  const dir = join(home, `chat-infra-${instanceId()}`);
  if (!existsSync(dir)) {
    mkdirSync(dir, { mode: 0o700 });
    own(dir);
    log(`the postgres user cannot enter ${pgDir()}, so the PostgreSQL cluster lives in ${dir}`);
  }
  return dir;
}

/**
 * Our settings, rewritten at every start (included from postgresql.conf). The values were
 * measured on this project's workload; see tools/infra/README.md.
 */
function serverConfig(port: number, socketDir: string): string {
  return [
    '# Generated by @chat/infra (tools/infra/src/pg-local.ts) at every start: edits here are lost.',
    '# A private PostgreSQL for FerretDB in development and tests, never for production.',
    '',
    "# Loopback only: it trusts every local connection (pg_hba.conf), as a dev server without passwords.",
    "listen_addresses = '127.0.0.1'",
    '# Picked by @chat/infra (free when chosen) and recorded in state.json.',
    `port = ${port}`,
    "# Inside our private dir, so it never collides with a system cluster's /var/run/postgresql.",
    `unix_socket_directories = '${socketDir.replace(/'/g, "''")}'`,
    `# Each FerretDB process opens up to ${FERRET_POOL_MAX_CONNS} connections (the pool_max_conns we give it), and a`,
    '# FerretDB that was just killed and restarted overlaps its predecessor for a moment.',
    `max_connections = ${2 * FERRET_POOL_MAX_CONNS + 20}`,
    '',
    '# FerretDB (pgx) prepares its statements, and after five executions PostgreSQL may switch to a',
    "# generic plan, where `_jsonb->$1 @> $2` has no constant key and so matches no index: every",
    '# pushed-down query would become a sequential scan again. Custom plans see the key and use the',
    '# GIN indexes of ferretdb-gin.sql; planning them costs microseconds.',
    'plan_cache_mode = force_custom_plan',
    '# JIT compiles any query costed over 100,000 (a scan of ~100k documents) for tens of ms, more',
    "# than such a query takes to run here; FerretDB's queries are short.",
    'jit = off',
    '',
    '# Durability traded for speed, acceptable for a dev/test server. A crash of FerretDB loses',
    '# nothing: every write it acknowledged is committed in PostgreSQL. A crash of the PostgreSQL',
    '# server (or the machine) loses at most the last ~0.6 s of acknowledged writes',
    '# (3 x wal_writer_delay), and the database stays consistent (WAL replay).',
    'synchronous_commit = off',
    '# fsync and full_page_writes stay on: turning them off gained little more here (measured) and',
    '# a machine crash could then corrupt the cluster instead of losing the last writes.',
    '',
    '# Bulk loads (tests, the benchmark) fill WAL fast; fewer forced checkpoints.',
    'max_wal_size = 1GB',
    '',
    "# The outbox flips `published` on every message, and FerretDB's updates are never HOT (every",
    '# index is on an expression of the one jsonb column), so each mark leaves a dead tuple that the',
    '# GIN index of `published` still lists under false until a vacuum: every `{published: false}`',
    '# read visits them all (measured: 3.8 ms with 38,000 dead tuples, 0.8 ms after VACUUM). The',
    '# default waits for 20% of a table to be dead (20,000 tuples at 100,000 messages) after naps',
    '# of a minute; here a table is vacuumed once 1,000 tuples are dead, at full speed.',
    'autovacuum_naptime = 5s',
    'autovacuum_vacuum_scale_factor = 0',
    'autovacuum_vacuum_threshold = 1000',
    'autovacuum_vacuum_cost_delay = 0',
    '# Autovacuum also ANALYZEs a table once 10% of it changed: under a send burst, every 5 s for the',
    '# messages and timeline tables. At the default target (100) each samples 30,000 rows and',
    '# evaluates every index expression on each, 0.4-0.5 s of a core, and the sends it overlapped',
    '# stalled (tests/system/overload: answers over 1 s). At 10 it costs a tenth; our queries are',
    '# equalities on keys, which need no long most-common-value lists (tools/infra/README.md).',
    'default_statistics_target = 10',
    '# An autovacuum or ANALYZE slow enough to be felt is written to the log, with its CPU time.',
    'log_autovacuum_min_duration = 250ms',
    '',
    '# The log goes to stderr, which @chat/infra appends to <infraDir>/postgresql/postgresql.log.',
    'logging_collector = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    '',
  ].join('\n');
}

const PG_HBA = [
  '# Generated by @chat/infra: a private dev/test cluster listening on 127.0.0.1 only.',
  '# TYPE  DATABASE  USER  ADDRESS       METHOD',
  'local   all       all                 trust',
  'host    all       all   127.0.0.1/32  trust',
  '',
].join('\n');

/** initdb a new cluster (UTF8, C locale: what FerretDB requires) unless one exists. */
async function initCluster(bin: string, data: string): Promise<void> {
  if (existsSync(join(data, 'PG_VERSION'))) return;
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { mode: 0o700 });
  own(data);
  const t0 = Date.now();
  // --no-sync: a fresh dev cluster need not be flushed to disk before use.
  const r = await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--no-locale', '-A', 'trust', '--no-sync'], {
    ...asServer(),
    cwd: '/',
    env: { ...process.env, LC_ALL: 'C' },
    timeoutMs: 120_000,
  });
  if (r.code !== 0) {
    rmSync(data, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${indent((r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n'))}`);
  }
  log(`created a PostgreSQL cluster in ${data} (${Date.now() - t0} ms)`);
}

function writeServerFiles(port: number, cluster: string): string {
  const data = join(cluster, 'data');
  const socketDir = join(cluster, 'run');
  mkdirSync(socketDir, { recursive: true });
  own(socketDir);
  for (const [name, text] of [
    ['chat-infra.conf', serverConfig(port, socketDir)],
    ['pg_hba.conf', PG_HBA],
  ] as const) {
    writeFileSync(join(data, name), text, { mode: 0o600 });
    own(join(data, name));
  }
  const main = join(data, 'postgresql.conf');
  const include = "include 'chat-infra.conf'";
  const conf = readFileSync(main, 'utf8');
  if (!conf.includes(include)) writeFileSync(main, `${conf.trimEnd()}\n\n# Our settings (last, so they win):\n${include}\n`);
  return socketDir;
}

export function postgresUrl(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/${FERRET_DATABASE}`;
}

/** psql against our cluster (TCP, trust auth), failing on the first SQL error. */
export async function psql(st: Pick<LocalPostgresState, 'binDir' | 'port'>, sql: string, db = FERRET_DATABASE, timeoutMs = 60_000) {
  return run(join(st.binDir, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(st.port), '-U', 'postgres', '-d', db], {
    input: sql,
    timeoutMs,
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
}

export async function psqlOk(st: LocalPostgresState, sql: string, db: string, what: string): Promise<string> {
  const r = await psql(st, sql, db);
  if (r.code !== 0) throw new Error(`PostgreSQL: ${what} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${indent((r.stderr || r.stdout).trim())}`);
  return r.stdout.trim();
}

/** The postmaster pid, from the first line of postmaster.pid (readable by us as root or owner). */
function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Ours = alive, its command line holds our data dir (`postgres -D <dataDir>`), which no other postmaster has, and it runs the binary installed now. */
export function postgresAlive(st: LocalPostgresState | undefined): boolean {
  return !!st && pidIsOurs(st.pid, st.dataDir) && !executableReplaced(st.pid);
}

async function isReady(st: Pick<LocalPostgresState, 'binDir' | 'port'>): Promise<boolean> {
  const r = await run(join(st.binDir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(st.port), '-t', '2'], { timeoutMs: 5000 });
  return r.code === 0;
}

export async function postgresHealthy(st: LocalPostgresState | undefined): Promise<boolean> {
  return postgresAlive(st) && (await isReady(st!));
}

/**
 * (Re)install ferretdb-gin.sql: the event triggers, and GIN twins for btree indexes that have
 * none yet. Returns how many GIN indexes it created.
 */
export async function installGinTrigger(st: LocalPostgresState): Promise<number> {
  const sql = readFileSync(new URL('./ferretdb-gin.sql', import.meta.url), 'utf8');
  return Number((await psqlOk(st, sql, FERRET_DATABASE, 'installing the GIN trigger (ferretdb-gin.sql)')).split('\n').pop());
}

/** Remove the event triggers and our GIN indexes (to measure without them; the next start reinstalls them). */
export async function removeGinTrigger(st: LocalPostgresState): Promise<void> {
  await psqlOk(
    st,
    `DROP EVENT TRIGGER IF EXISTS chat_infra_gin_on_create_index;
     DROP EVENT TRIGGER IF EXISTS chat_infra_gin_on_drop_index;
     DO $$ DECLARE r record; BEGIN
       FOR r IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'i' AND obj_description(c.oid, 'pg_class') LIKE 'chat_infra gin%' LOOP
         EXECUTE format('DROP INDEX %I.%I', r.nspname, r.relname);
       END LOOP;
     END $$;`,
    FERRET_DATABASE,
    'removing the GIN trigger',
  );
}

/** Create the ferretdb database (first start) and (re)install the GIN trigger (every start). */
async function prepareDatabase(st: LocalPostgresState): Promise<void> {
  const exists = await psqlOk(st, `SELECT 1 FROM pg_database WHERE datname = '${FERRET_DATABASE}'`, 'postgres', 'looking up the ferretdb database');
  if (exists !== '1')
    await psqlOk(st, `CREATE DATABASE ${FERRET_DATABASE} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`, 'postgres', 'CREATE DATABASE ferretdb');
  const created = await installGinTrigger(st);
  if (created > 0) log(`created ${created} GIN index(es) for btree indexes that had none`);
}

/** Start our cluster (creating it the first time), or reuse the running one. */
export async function startPostgres(): Promise<LocalPostgresState> {
  const binDir = await ensurePostgresInstalled();
  const prev = readState().postgres;
  if (prev && postgresAlive(prev)) {
    if (await isReady(prev)) return prev;
    await stopPostgres(prev); // alive but not answering: replace it
  } else if (prev && pidIsOurs(prev.pid, prev.dataDir)) {
    notice(`PostgreSQL (pid ${prev.pid}) runs a binary that was replaced since it started (a package upgrade): restarting it`);
    await stopPostgres(prev);
  }
  const cluster = await clusterDir();
  const dataDir = join(cluster, 'data');
  await initCluster(binDir, dataDir);
  // A postmaster.pid left by a killed server whose pid was reused would stop postgres starting.
  const stale = readPostmasterPid(dataDir);
  if (stale && !pidIsOurs(stale, dataDir)) rmSync(join(dataDir, 'postmaster.pid'), { force: true });

  const port = await pickPort([prev?.port, isDefaultInstance() ? 5433 : undefined]);
  if (prev && prev.port !== port) log(`PostgreSQL's previous port ${prev.port} is taken now; using ${port}`);
  const socketDir = writeServerFiles(port, cluster);
  mkdirSync(pgDir(), { recursive: true });
  const logFile = join(pgDir(), 'postgresql.log');
  const pid = spawnDetached(join(binDir, 'postgres'), ['-D', dataDir], { cwd: cluster, logFile, ...asServer() });
  const st: LocalPostgresState = {
    source: 'local',
    url: postgresUrl(port),
    port,
    pid,
    binDir,
    dataDir,
    socketDir,
    logFile,
    runAs: serverUser()?.name ?? process.env.USER ?? String(process.getuid?.()),
    startedAt: new Date().toISOString(),
  };
  updateState((s) => (s.postgres = st)); // record the pid before waiting, so `down` can find it
  const end = Date.now() + 60_000;
  while (!(await isReady(st))) {
    if (!pidAlive(pid)) throw new Error(`PostgreSQL (pid ${pid}) exited during startup. Log ${logFile}:\n${indent(tailFile(logFile, 15))}`);
    if (Date.now() > end) {
      await stopPostgres(st);
      throw new Error(`PostgreSQL did not accept connections on 127.0.0.1:${port} within 60 s. Log ${logFile}:\n${indent(tailFile(logFile, 15))}`);
    }
    await sleep(50);
  }
  await prepareDatabase(st);
  return st;
}

/** Fast shutdown (SIGINT: clients disconnected, everything committed kept), then harder. */
export async function stopPostgres(st: LocalPostgresState | undefined): Promise<void> {
  const pid = st && (st.pid ?? readPostmasterPid(st.dataDir));
  if (st && pid && pidIsOurs(pid, st.dataDir)) {
    for (const [signal, waitMs] of [['SIGINT', 30_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        break;
      }
      if (await waitPidExit(pid, waitMs)) break;
      notice(`PostgreSQL (pid ${pid}) did not stop after ${signal}; trying harder`);
    }
  }
  updateState((s) => delete s.postgres);
}
