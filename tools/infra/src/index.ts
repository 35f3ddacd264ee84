// @chat/infra — the one way the project gets its MongoDB-wire server and RabbitMQ.
//
// Resolution, per server, independently:
//   1. MONGO_URL / AMQP_URL from the environment            (source 'env')
//   2. a Docker engine answers -> mongo:7 / rabbitmq:3-management via testcontainers ('testcontainers')
//   3. local processes on 127.0.0.1 ('local'): FerretDB on a private cluster of Debian's postgresql
//      (SQLite when PostgreSQL cannot be installed), and Debian's rabbitmq-server
// What we start is recorded in <repo>/.infra/state.json (or $CHAT_INFRA_DIR/state.json).
import { containerHealthy, dockerAvailable, killContainer, pauseContainer, startContainer, stopContainer, type Kind } from './docker.js';
import { buildFerret, ferretHealthy, killFerret, signalFerret, startFerret, stopFerret } from './ferretdb.js';
import { ensurePostgresInstalled, PostgresUnavailable, stopPostgres } from './pg-local.js';
import { ensureRabbitInstalled, rabbitHealthy, signalRabbitNode, startLocalRabbit, stopLocalRabbitApp, stopLocalRabbitNode } from './rabbit-local.js';
import { infraDir, readState, repoRoot as root, statePath, updateState, withLock, type LocalMongoState, type MongoState, type RabbitState, type Source } from './state.js';
import { log, notice, pidAlive, sleep, withQuiet } from './util.js';
import { amqpProbe, mongoPing } from './probe.js';

export interface Infra {
  mongoUrl: string;
  amqpUrl: string;
  mongoSource: 'env' | 'testcontainers' | 'local';
  amqpSource: 'env' | 'testcontainers' | 'local';
}

export type { Source };

const ENV: Record<Kind, 'MONGO_URL' | 'AMQP_URL'> = { mongo: 'MONGO_URL', rabbit: 'AMQP_URL' };
const NAME: Record<Kind, string> = { mongo: 'MongoDB', rabbit: 'RabbitMQ' };

export function repoRoot(): string {
  return root();
}

function envUrl(kind: Kind): string | undefined {
  const v = process.env[ENV[kind]];
  return v && v.trim() ? v.trim() : undefined;
}

async function healthy(kind: Kind, st: MongoState | RabbitState | undefined): Promise<boolean> {
  if (!st || st.paused) return false;
  if (st.source === 'testcontainers') return containerHealthy(kind, st);
  return kind === 'mongo' ? ferretHealthy(st as Extract<MongoState, { source: 'local' }>) : rabbitHealthy(st as Extract<RabbitState, { source: 'local' }>);
}

interface Resolved {
  url: string;
  source: Source;
}

/** Make one server available. Caller holds the lock. */
async function ensureKind(kind: Kind): Promise<Resolved> {
  const env = envUrl(kind);
  if (env) return { url: env, source: 'env' };
  const st = readState()[kind];
  // A paused server is not dead: replacing it would leave a stopped process holding its data.
  if (st?.paused) throw new Error(`${NAME[kind]} at ${st.url} is paused (pause${kind === 'mongo' ? 'Mongo' : 'Rabbit'}): resume it first (resume${kind === 'mongo' ? 'Mongo' : 'Rabbit'}, or \`cli.ts resume-${kind}\`)`);
  if (st && (await healthy(kind, st))) return { url: st.url, source: st.source };

  if (st?.source === 'testcontainers') {
    if (await dockerAvailable()) {
      const c = await startContainer(kind);
      return { url: c.url, source: 'testcontainers' };
    }
    log(`${NAME[kind]} was a testcontainers container (${st.containerId.slice(0, 12)}) but no Docker engine answers now; falling back to a local server`);
    updateState((s) => delete s[kind]);
  } else if (!st && (await dockerAvailable())) {
    const c = await startContainer(kind);
    return { url: c.url, source: 'testcontainers' };
  }
  const local = kind === 'mongo' ? await startFerret() : await startLocalRabbit();
  return { url: local.url, source: 'local' };
}

function mask(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, (_m, u: string, p: string) => `//${u}:${p === 'guest' ? p : '***'}@`);
}

function describe(kind: Kind, r: Resolved): string {
  const st = readState()[kind];
  let how: string;
  if (r.source === 'env') how = `from ${ENV[kind]}`;
  else if (st?.source === 'testcontainers') how = `testcontainers ${st.image}, container ${st.containerId.slice(0, 12)}`;
  else if (st?.source === 'local' && kind === 'mongo') how = `local FerretDB, pid ${st.pid}, log ${st.logFile}; ${backendDetail(st as LocalMongoState)}`;
  else if (st?.source === 'local') how = `local rabbitmq-server node ${(st as { nodeName: string }).nodeName}, pid ${st.pid}, log ${st.logFile}`;
  else how = r.source;
  return `${kind === 'mongo' ? 'MONGO_URL' : 'AMQP_URL '}=${mask(r.url)}  (${how})`;
}

function backendDetail(st: LocalMongoState): string {
  const pg = readState().postgres;
  if (st.backend !== 'postgresql') return 'SQLite backend (slow: no filter is pushed down)';
  return pg ? `PostgreSQL backend, postmaster pid ${pg.pid} on 127.0.0.1:${pg.port}, log ${pg.logFile}` : 'PostgreSQL backend (not running)';
}

function toInfra(m: Resolved, a: Resolved): Infra {
  return { mongoUrl: m.url, amqpUrl: a.url, mongoSource: m.source, amqpSource: a.source };
}

/** Both servers healthy per state/env without taking the lock (the common, warm case)? */
async function fastPath(): Promise<[Resolved, Resolved] | undefined> {
  const s = readState();
  const out: Resolved[] = [];
  for (const kind of ['mongo', 'rabbit'] as const) {
    const env = envUrl(kind);
    if (env) out.push({ url: env, source: 'env' });
    else {
      const st = s[kind];
      if (!st || !(await healthy(kind, st))) return undefined;
      out.push({ url: st.url, source: st.source });
    }
  }
  return [out[0]!, out[1]!];
}

/**
 * Make MongoDB and RabbitMQ available and return their URLs. Idempotent and cheap when
 * they already run (a state read plus two probes); safe to call concurrently from
 * many processes (a lock file serialises starting).
 */
export async function ensureInfra(opts: { quiet?: boolean } = {}): Promise<Infra> {
  return withQuiet(opts.quiet, async () => {
    const t0 = Date.now();
    let pair = await fastPath();
    if (!pair) {
      pair = await withLock('ensureInfra', async () => {
        const [m, a] = await Promise.allSettled([ensureKind('mongo'), ensureKind('rabbit')]);
        const errors = [m, a].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason)));
        if (errors.length) throw new Error(`@chat/infra could not provide the servers:\n- ${errors.join('\n- ')}`);
        return [(m as PromiseFulfilledResult<Resolved>).value, (a as PromiseFulfilledResult<Resolved>).value] as [Resolved, Resolved];
      });
    }
    log(describe('mongo', pair[0]));
    log(describe('rabbit', pair[1]));
    log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (state: ${statePath()})`);
    return toInfra(pair[0], pair[1]);
  });
}

/** `down`: stop what we started (per the state file). Never touches servers given via env. */
export async function stopInfra(): Promise<void> {
  await withLock('stopInfra', async () => {
    // A stopped (SIGSTOP) process acts on no signal but SIGKILL: let it go on, then stop it.
    for (const kind of ['mongo', 'rabbit'] as const) if (readState()[kind]?.paused) await setPaused(kind, false).catch((e: unknown) => log(`resuming ${NAME[kind]} before stopping it failed: ${String(e)}`));
    const s = readState();
    const tasks: Array<Promise<void>> = [];
    // FerretDB first, so that PostgreSQL's fast shutdown has no client left to cut off.
    if (s.mongo?.source === 'local' || s.postgres)
      tasks.push(
        (async () => {
          if (s.mongo?.source === 'local') {
            await stopFerret(false);
            log(`stopped FerretDB (pid ${s.mongo.pid})`);
          }
          if (s.postgres) {
            await stopPostgres(s.postgres);
            log(`stopped PostgreSQL (pid ${s.postgres.pid})`);
          }
        })(),
      );
    if (s.mongo?.source === 'testcontainers') tasks.push(stopContainer('mongo', true).then(() => log('removed the mongo container')));
    if (s.rabbit?.source === 'local') {
      const r = s.rabbit;
      tasks.push(
        stopLocalRabbitNode(r).then(() => {
          updateState((x) => delete x.rabbit);
          log(`stopped RabbitMQ node ${r.nodeName}`);
        }),
      );
    }
    if (s.rabbit?.source === 'testcontainers') tasks.push(stopContainer('rabbit', true).then(() => log('removed the rabbitmq container')));
    const res = await Promise.allSettled(tasks);
    const errors = res.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason?.message ?? r.reason));
    if (!tasks.length) log(`nothing to stop (no servers recorded in ${statePath()})`);
    if (errors.length) throw new Error(`stopInfra: ${errors.join('; ')}`);
  });
}

function assertControllable(kind: Kind, op: string): void {
  const env = envUrl(kind);
  if (env)
    throw new Error(
      `${op}: ${NAME[kind]} comes from ${ENV[kind]}=${mask(env)}, which @chat/infra did not start and cannot control. ` +
        `Unset ${ENV[kind]} to let @chat/infra run its own ${NAME[kind]} (failure-injection tests should skip when canControl('${kind}') is false).`,
    );
}

async function stopKind(kind: Kind): Promise<void> {
  let st = readState()[kind];
  if (!st) {
    await ensureKind(kind); // nothing recorded: start ours, so there is something to stop
    st = readState()[kind]!;
  }
  if (st.source === 'testcontainers') await stopContainer(kind, false);
  else if (kind === 'mongo') await stopFerret(true);
  else await stopLocalRabbitApp(st as Extract<RabbitState, { source: 'local' }>);
  log(`${NAME[kind]} stopped (${st.url} now refuses connections)`);
}

async function startKind(kind: Kind): Promise<void> {
  const r = await ensureKind(kind);
  const prev = readState()[kind];
  if (prev && r.url !== prev.url) log(`note: ${NAME[kind]} URL changed to ${r.url}`);
  log(`${NAME[kind]} is up at ${r.url}`);
}

/** Broker really down: open connections are closed, new ones refused (same URL comes back with startRabbit). */
export async function stopRabbit(): Promise<void> {
  assertControllable('rabbit', 'stopRabbit');
  await withLock('stopRabbit', () => stopKind('rabbit'));
}
/** Broker back on the same URL; resolves once it accepts AMQP connections. */
export async function startRabbit(): Promise<void> {
  assertControllable('rabbit', 'startRabbit');
  await withLock('startRabbit', () => startKind('rabbit'));
}
export async function restartRabbit(): Promise<void> {
  assertControllable('rabbit', 'restartRabbit');
  await withLock('restartRabbit', async () => {
    await stopKind('rabbit');
    await startKind('rabbit');
  });
}
/**
 * MongoDB down: the server process/container is stopped (data kept). Locally that is the FerretDB
 * process, which is what the services talk to; the PostgreSQL under it keeps running.
 */
export async function stopMongo(): Promise<void> {
  assertControllable('mongo', 'stopMongo');
  await withLock('stopMongo', () => stopKind('mongo'));
}
/**
 * MongoDB crashes: SIGKILL to the server (locally FerretDB, which is what the services talk to;
 * the PostgreSQL under it runs on), or `docker kill`. Unlike stopMongo, the server shuts nothing
 * down in order: its clients' connections are reset mid-command. startMongo brings it back on the
 * same URL over the same data.
 */
export async function killMongo(): Promise<void> {
  assertControllable('mongo', 'killMongo');
  await withLock('killMongo', async () => {
    const st = readState().mongo;
    if (!st) throw new Error(`killMongo: no MongoDB is recorded in ${statePath()} (run ensureInfra first)`);
    if (st.paused) throw new Error(`killMongo: MongoDB at ${st.url} is paused (pauseMongo): resume it first`);
    if (st.source === 'testcontainers') await killContainer('mongo');
    else await killFerret();
    log(`MongoDB killed (SIGKILL; ${st.url} now refuses connections)`);
  });
}
/** MongoDB back on the same URL with the same data; resolves once it answers ping. */
export async function startMongo(): Promise<void> {
  assertControllable('mongo', 'startMongo');
  await withLock('startMongo', () => startKind('mongo'));
}

/**
 * Server hung, not dead: SIGSTOP to the local server process (a container is paused), so its
 * connections stay open and the kernel still accepts new ones, but nothing answers: what a
 * stalled broker or database looks like to clients, unlike stop*, which refuses connections.
 * resume* (SIGCONT) lets it go on where it stopped. While paused, ensureInfra refuses the
 * server with a clear error rather than judging it dead and replacing it, and stopInfra
 * resumes it before stopping it.
 */
export async function pauseRabbit(): Promise<void> {
  assertControllable('rabbit', 'pauseRabbit');
  await withLock('pauseRabbit', () => setPaused('rabbit', true));
}
/** The broker paused by pauseRabbit goes on (SIGCONT); resolves once it answers AMQP again. */
export async function resumeRabbit(): Promise<void> {
  assertControllable('rabbit', 'resumeRabbit');
  await withLock('resumeRabbit', () => setPaused('rabbit', false));
}
/** The MongoDB-wire server hangs (locally FerretDB gets SIGSTOP; PostgreSQL under it runs on). See pauseRabbit. */
export async function pauseMongo(): Promise<void> {
  assertControllable('mongo', 'pauseMongo');
  await withLock('pauseMongo', () => setPaused('mongo', true));
}
/** The server paused by pauseMongo goes on; resolves once it answers ping again. */
export async function resumeMongo(): Promise<void> {
  assertControllable('mongo', 'resumeMongo');
  await withLock('resumeMongo', () => setPaused('mongo', false));
}

/** SIGSTOP/SIGCONT (docker pause/unpause), recorded in the state; a resume waits until the server answers again. */
async function setPaused(kind: Kind, paused: boolean): Promise<void> {
  const st = readState()[kind];
  if (!st) throw new Error(`${paused ? 'pause' : 'resume'}: no ${NAME[kind]} is recorded in ${statePath()} (run ensureInfra first)`);
  if (paused && (await healthy(kind, st)) === false) throw new Error(`pause: ${NAME[kind]} at ${st.url} is not answering now, so there is nothing to pause`);
  if (st.source === 'testcontainers') await pauseContainer(kind, paused);
  else if (kind === 'rabbit') signalRabbitNode(st as Extract<RabbitState, { source: 'local' }>, paused ? 'SIGSTOP' : 'SIGCONT');
  else signalFerret(st as LocalMongoState, paused ? 'SIGSTOP' : 'SIGCONT');
  updateState((s) => {
    const cur = s[kind];
    if (cur) cur.paused = paused || undefined;
  });
  if (paused) {
    log(`${NAME[kind]} paused (${st.url} accepts connections but answers nothing)`);
    return;
  }
  const { hostname, port } = new URL(st.url);
  const probe = kind === 'rabbit' ? amqpProbe : mongoPing;
  const end = Date.now() + 30_000;
  for (;;) {
    const p = await probe(hostname, Number(port), 2_000);
    if (p.ok) break;
    if (Date.now() > end) throw new Error(`${NAME[kind]} at ${st.url} was resumed but does not answer within 30 s: ${p.reason}`);
    await sleep(100);
  }
  log(`${NAME[kind]} resumed (${st.url})`);
}

/**
 * The pids of the processes that make up the local MongoDB-wire server: FerretDB and, on the
 * PostgreSQL backend, the postmaster (its backends are its children: sum CPU over the process
 * trees). Empty when the database is not ours to see (env or testcontainers) or not running.
 */
export function localDatabaseProcesses(): number[] {
  const s = readState();
  // MONGO_URL may name our own server (`make bench` and `make up` export what `up --env`
  // printed): then it is still ours to measure. Any other URL is not a process of ours.
  const given = envUrl('mongo');
  if (given && given !== s.mongo?.url) return [];
  if (s.mongo?.source !== 'local') return [];
  const pids = [s.mongo.stopped ? undefined : s.mongo.pid];
  if (s.mongo.backend === 'postgresql') pids.push(s.postgres?.pid);
  return pids.filter((p): p is number => pidAlive(p));
}

/** FerretDB's Go pprof base URL when the database is our local FerretDB (same rule as localDatabaseProcesses). */
export function localDatabaseProfileUrl(): string | undefined {
  const s = readState();
  const given = envUrl('mongo');
  if ((given && given !== s.mongo?.url) || s.mongo?.source !== 'local' || s.mongo.stopped) return undefined;
  return s.mongo.pprofUrl;
}

/** Whether the failure-injection controls work for this server (false when it came from env). */
export function canControl(kind: 'rabbit' | 'mongo'): Promise<boolean> {
  return Promise.resolve(!envUrl(kind));
}

// ------------------------------------------------------------ CLI helpers

export interface StatusEntry {
  kind: Kind;
  source: Source | 'none';
  url?: string;
  healthy: boolean;
  detail: string;
}

/** What is configured/recorded and whether it answers (does not start anything). */
export async function infraStatus(): Promise<StatusEntry[]> {
  const s = readState();
  const out: StatusEntry[] = [];
  for (const kind of ['mongo', 'rabbit'] as const) {
    const env = envUrl(kind);
    const st = s[kind];
    if (env) out.push({ kind, source: 'env', url: env, healthy: true, detail: `from ${ENV[kind]} (not probed)` + (st ? `; a recorded ${st.source} server also exists: ${st.url}` : '') });
    else if (!st) out.push({ kind, source: 'none', healthy: false, detail: 'not started (run `up`)' });
    else {
      const ok = await healthy(kind, st);
      const extra =
        st.source === 'testcontainers'
          ? `container ${st.containerId.slice(0, 12)} (${st.image})${st.managementUrl ? `, management ${st.managementUrl}` : ''}`
          : `pid ${st.pid}, log ${st.logFile}${kind === 'mongo' ? `; ${backendDetail(st as LocalMongoState)}` : ''}`;
      const stopped = (st as { stopped?: boolean; appStopped?: boolean }).stopped || (st as { appStopped?: boolean }).appStopped;
      const by = kind === 'mongo' ? 'Mongo' : 'Rabbit';
      out.push({ kind, source: st.source, url: st.url, healthy: ok, detail: `${ok ? 'answers' : st.paused ? `paused (by pause${by})` : stopped ? `stopped (by stop${by})` : 'NOT answering'}; ${extra}` });
    }
  }
  return out;
}

/** `build`: build/cache FerretDB and install postgresql and rabbitmq-server if missing. */
export async function prepareInfra(): Promise<void> {
  await withLock('build', async () => {
    if (envUrl('mongo')) log('MONGO_URL is set: not building FerretDB');
    else {
      const r = await buildFerret();
      if (!r.built) log('FerretDB binary is up to date (tools/bin/ferretdb)');
      if (process.env.CHAT_INFRA_MONGO_BACKEND !== 'sqlite') {
        try {
          log(`PostgreSQL is installed (${await ensurePostgresInstalled()})`);
        } catch (e) {
          if (!(e instanceof PostgresUnavailable)) throw e;
          notice(`${e.message}: FerretDB will use its slower SQLite backend`);
        }
      }
    }
    if (envUrl('rabbit')) log('AMQP_URL is set: not installing rabbitmq-server');
    else {
      await ensureRabbitInstalled();
      log('rabbitmq-server is installed');
    }
  });
}

export { infraDir, statePath };
export { startScratchMongo } from './docker.js';
