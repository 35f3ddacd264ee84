/**
 * Scenario 8, the local database: ours and the origin (tools/bench/src/origin/server.ts) on the
 * same MongoDB-wire server, broker and machine, in the same run, one system loaded at a time.
 *
 *   1. Seed: ours through its public API (POST /chat/send, closed loop, `seedConcurrency` in
 *      flight) over a conversation mix of `users` users with about `peersPerUser` peers each; the
 *      origin with insertMany of the same mix (it is one collection), as many messages as ours got.
 *   2. Round trips per send: chat's chat_db_round_trips_per_request histogram, scraped before and
 *      after a window of sends at a low rate (status 201 only).
 *   3. Reads: GET /chat/sync and GET /chat/history on ours, random users and peers, low concurrency
 *      (and the origin's history, for context).
 *   4. Send-rate ramp, both systems in turn step by step (each step with the other idle), p99 ≤ 50 ms.
 *   5. The database server's CPU at rest: 15 s after the load stopped (PostgreSQL checkpoints and vacuums what the load wrote), over 10 s, whole process trees.
 *
 * Chat and the origin run with --cpu-prof; a missed goal's cause is read from the profile over the
 * window that missed it, once they stopped (main.ts stops them through `finish`).
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import * as infraModule from '@chat/infra';
import type { Stack } from '@chat/testkit';
import type { LoadGen } from '../loadgen/pool.js';
import { categoryShares, describeTop, monoMicros, profilesIn, readProfile, topInclusive, topSelfTime, type Category, type CpuProfile, type TimeWindow } from '../profile.js';
import { CpuMeter, pidListeningOn, processTable, processTree, treeCpuSeconds } from '../proc.js';
import { describeFerretProfile, profileFerretDb } from '../ferretdb-profile.js';
import { ProgressLine } from '../progress.js';
import { histogramWindow, readHistogram } from '../prom.js';
import type { ProfileSummary } from '../results.js';
import { LatencyHistogram, round3 } from '../stats.js';
import { startOrigin, startOurs, type BenchUser, type Proc } from '../stack.js';
import { sendStep, type RampStep, type SendOptions } from './e2e.js';
import { conversationPlan, RampPlan, seedMessage, sustainedRate, type ConversationPlan, type LocalDbGoalId, type LocalDbResult, type ReadLatency, type SystemRamp } from './local-db-plan.js';
import { ROUND_TRIPS_METRIC as DB_ROUND_TRIPS_METRIC } from '@chat/common/mongo';

export const ROUND_TRIPS_METRIC = `chat_${DB_ROUND_TRIPS_METRIC}`;
/** The send-latency bound of this scenario's goal (scenario 4 keeps its own, SUSTAINABLE_SEND_P99_MS). */
export const LOCAL_DB_P99_MS = 50;

export interface LocalDbConfig {
  /** The scenario's own budget; every part below is cut to what is left of it. */
  budgetMs: number;
  targetStored: number;
  users: number;
  peersPerUser: number;
  seedConcurrency: number;
  /** At most this long for seeding ours; the rest of the budget is kept for the measurements. */
  seedBudgetMs: number;
  /** Kept back from seeding for everything after it. */
  reserveMs: number;
  rampRates: number[];
  refineSteps: number;
  stepSeconds: number;
  readRequests: number;
  readConcurrency: number;
  roundTripSeconds: number;
  roundTripRate: number;
}

export interface LocalDbOptions {
  stack: Stack;
  auth: Proc;
  lg: LoadGen;
  users: BenchUser[];
  mint: (u: BenchUser) => Promise<string>;
  cfg: LocalDbConfig;
  deadline: number;
  /** Registers a process with the run (stopped and killed at its end, output kept). */
  track: (p: Proc) => void;
  log: (msg: string) => void;
}

// ---- The database server's processes ----------------------------------------------------

/**
 * The roots of the local database server's process trees, when the database the run talks to is
 * one: @chat/infra's localDatabaseProcesses() (FerretDB and PostgreSQL's postmaster). The process
 * listening on the MongoDB URL's port must be in those trees: a MONGO_URL pointing elsewhere is
 * not measured.
 */
export function databaseRoots(mongoUrl: string): { roots: number[]; source: string } | { notMeasured: string } {
  const notLocal = { notMeasured: 'the database is not a local process' };
  const url = new URL(mongoUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return notLocal;
  const roots = infraModule.localDatabaseProcesses();
  if (!roots.length) return notLocal;
  const listener = pidListeningOn(Number(url.port || 27017));
  if (listener === undefined || !processTree(roots, processTable()).includes(listener)) return notLocal;
  return { roots, source: '@chat/infra localDatabaseProcesses()' };
}

// ---- HTTP from the harness (seeding, reads) ---------------------------------------------

interface HttpResult {
  status: number;
  ms: number;
  body: string;
}

function request(agent: http.Agent, url: URL, token: string, method: 'GET' | 'POST', body?: unknown): Promise<HttpResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method, agent, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: text }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, ms: performance.now() - t0, body: err.code ?? err.message }));
    req.end(payload);
  });
}

/** Sends the seed's messages through POST /chat/send, `concurrency` in flight, until `count` or `deadline`. */
async function seedOurs(chat: Proc, plan: ConversationPlan, users: BenchUser[], tokens: string[], count: number, concurrency: number, deadline: number, log: (m: string) => void): Promise<{ stored: number; seconds: number; errors: Record<string, number> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL('/chat/send', chat.url);
  const progress = new ProgressLine('seed ours');
  const errors: Record<string, number> = {};
  let next = 0;
  let stored = 0;
  let consecutiveErrors = 0;
  let told = false;
  const t0 = performance.now();
  const lane = async () => {
    while (next < count && performance.now() < deadline && consecutiveErrors < 200) {
      const m = seedMessage(plan, next++);
      const r = await request(agent, url, tokens[m.from]!, 'POST', { to: users[m.to]!.username, text: m.text });
      if (r.status === 201) {
        stored++;
        consecutiveErrors = 0;
      } else {
        errors[r.status ? `http_${r.status}` : r.body] = (errors[r.status ? `http_${r.status}` : r.body] ?? 0) + 1;
        consecutiveErrors++;
      }
      const s = (performance.now() - t0) / 1000;
      progress.update({ rate: stored / s, extra: `stored ${stored}/${count}` });
      if (!told && s >= 20) {
        told = true;
        log(`  seeding ours at ${(stored / s).toFixed(1)}/s: ${count.toLocaleString('en-US')} would take ${((count / Math.max(stored / s, 0.001)) / 60).toFixed(1)} min (${((deadline - performance.now()) / 60_000).toFixed(1)} min allowed)`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    progress.done();
    agent.destroy();
  }
  return { stored, seconds: (performance.now() - t0) / 1000, errors };
}

/** The same mix into the origin's single collection, `batch` documents per insertMany. */
async function seedOrigin(mongoUrl: string, db: string, plan: ConversationPlan, users: BenchUser[], count: number, batch: number, deadline: number): Promise<{ stored: number; seconds: number }> {
  const client = new MongoClient(mongoUrl);
  const progress = new ProgressLine('seed origin');
  const t0 = performance.now();
  let stored = 0;
  try {
    const coll = client.db(db).collection('messages');
    // createdAt spread over the past, one message every 100 ms, so history's sort has real order to keep.
    const start = Date.now() - count * 100;
    while (stored < count && performance.now() < deadline) {
      const docs = [];
      for (let i = stored; i < Math.min(count, stored + batch); i++) {
        const m = seedMessage(plan, i);
        docs.push({ from: users[m.from]!.username, to: users[m.to]!.username, text: m.text, createdAt: new Date(start + i * 100) });
      }
      await coll.insertMany(docs, { ordered: false });
      stored += docs.length;
      progress.update({ rate: stored / ((performance.now() - t0) / 1000), extra: `stored ${stored}/${count}` });
    }
  } finally {
    progress.done();
    await client.close();
  }
  return { stored, seconds: (performance.now() - t0) / 1000 };
}

/** `count` GETs built by `next`, `concurrency` at a time, after a few unmeasured ones (JIT, caches). */
async function timedReads(label: string, count: number, concurrency: number, deadline: number, next: () => { url: URL; token: string }): Promise<{ latency: ReadLatency; window: TimeWindow }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  for (let i = 0; i < 10; i++) {
    const r = next();
    await request(agent, r.url, r.token, 'GET');
  }
  const h = new LatencyHistogram();
  const progress = new ProgressLine(label);
  let done = 0;
  let errors = 0;
  const fromUs = monoMicros();
  const lane = async () => {
    while (done < count && performance.now() < deadline) {
      done++;
      const r = next();
      const res = await request(agent, r.url, r.token, 'GET');
      if (res.status === 200) h.record(res.ms);
      else errors++;
      progress.update({ p99Ms: h.percentile(99), extra: `${done}/${count}` });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    progress.done();
    agent.destroy();
  }
  return {
    latency: { requests: done, errors, concurrency, p50Ms: round3(h.percentile(50)), p99Ms: round3(h.percentile(99)), maxMs: round3(h.max) },
    window: { fromUs, toUs: monoMicros() },
  };
}

// ---- Profiles ----------------------------------------------------------------------------

function stages(): Category[] {
  const url = (re: RegExp) => (f: { url: string }) => re.test(f.url);
  return [
    { name: 'jwt verification (jose)', match: url(/\/jose\//) },
    { name: 'mongodb driver', match: url(/\/(mongodb|bson)\//) },
    { name: 'broker (amqplib/rascal)', match: url(/\/(amqplib|rascal)\//) },
    { name: 'user directory', match: url(/user-directory|lru-cache/) },
    { name: 'logging (pino)', match: url(/\/pino/) },
    { name: 'http (koa/express, node:http)', match: url(/\/koa|@koa|\/express\/|\/body-parser\/|\/router\/|node:_http|node:http/) },
    { name: 'chat code', match: url(/services\/chat\/src/) },
    { name: 'origin code', match: url(/tools\/bench\/src\/origin/) },
  ];
}

/** "top self time …; by stage …" of one process over one window, and the summary for BENCHMARKS.md. */
const parsed = new Map<string, CpuProfile>();

function describeWindow(file: string, process: string, what: string, w: TimeWindow): { text: string; summary: ProfileSummary } {
  // A profile of a whole scenario is large: parsed once for all its windows.
  const prof = parsed.get(file) ?? readProfile(file);
  parsed.set(file, prof);
  const top = topSelfTime(prof, w, 8);
  const cats = categoryShares(prof, stages(), w);
  const byStage = Object.entries(cats.shares).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ');
  // Its own code on the stack says what the driver's and node's leaves were working for.
  const own = topInclusive(prof, w, (f) => /services\/chat\/src|tools\/bench\/src\/origin/.test(f.url) && f.functionName !== '', 4);
  const text =
    `${process} profile over ${what} (idle ${(top.idleShare * 100).toFixed(0)}%, ${top.busySamples} busy samples): top self time ${describeTop(top.entries, 5)}; by stage ${byStage}` +
    (own.length ? `; its own code on the stack: ${describeTop(own, 4)}` : '');
  return { text, summary: { process, window: `scenario 8, ${what} (idle ${(top.idleShare * 100).toFixed(0)}%)`, cpuProfile: file, top: describeTop(top.entries, 6), categories: Object.fromEntries(Object.entries(cats.shares).map(([k, v]) => [k, round3(v)])) } };
}

// ---- The scenario ------------------------------------------------------------------------

export interface LocalDbRun {
  result: LocalDbResult;
  /** Stops chat and the origin, then reads their profiles into the causes of missed goals. */
  finish(): Promise<ProfileSummary[]>;
}

export async function localDatabase(o: LocalDbOptions): Promise<LocalDbRun> {
  const { cfg, log, stack } = o;
  const t0 = performance.now();
  const left = () => o.deadline - performance.now();
  const { infra } = stack;
  const run = randomBytes(3).toString('hex');
  const chatDb = `bench_localdb_chat_${run}`;
  const originDb = `origin_bench_${run}`;
  const plan = conversationPlan(Math.min(cfg.users, o.users.length), cfg.peersPerUser);
  const users = o.users.slice(0, plan.users);
  const tokens = await Promise.all(users.map(o.mint));
  const result: LocalDbResult = {
    targetStored: cfg.targetStored,
    users: plan.users,
    peersPerUser: cfg.peersPerUser,
    conversations: plan.pairs.length,
    seed: { ours: { stored: 0, seconds: 0, perSec: 0, concurrency: cfg.seedConcurrency, errors: {}, budgetSeconds: 0 }, origin: { stored: 0, seconds: 0, perSec: 0, batch: 1_000 } },
    p99BoundMs: LOCAL_DB_P99_MS,
    stepSeconds: cfg.stepSeconds,
    ramp: { ours: { steps: [], sustainedRate: 0 }, origin: { steps: [], sustainedRate: 0 } },
    roundTrips: {},
    dbCpuAtRest: { waitedSeconds: 15, windowSeconds: 10 },
    causes: {},
    notes: [],
    elapsedSeconds: 0,
  };

  // A chat of its own, on a database of its own, so "stored" counts only this scenario's messages.
  log(`scenario 8: local database; chat on database ${chatDb}, the origin on ${originDb}`);
  const chat = await startOurs(stack, 'chat', { env: { CHAT_MONGO_DB: chatDb }, profile: true, label: 'chat-localdb' });
  o.track(chat);
  const origin = await startOrigin({ mongoUrl: infra.mongoUrl, amqpUrl: infra.amqpUrl, authUrl: o.auth.url, db: originDb }, { profile: true });
  o.track(origin);
  const db = databaseRoots(infra.mongoUrl);
  const dbPids = () => ('roots' in db ? processTree(db.roots, processTable()) : []);
  const windows: Partial<Record<'sync' | 'history' | 'rest' | 'roundTrips', TimeWindow>> = {};

  const finish = async (): Promise<ProfileSummary[]> => {
    await chat.stop();
    await origin.stop();
    const client = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    for (const name of [chatDb, originDb]) await client.db(name).dropDatabase().catch(() => undefined);
    await client.close().catch(() => undefined);
    return explain(result, chat, origin, windows);
  };

  try {
    // ---- 1. Seed ------------------------------------------------------------------------
    const seedDeadline = Math.min(performance.now() + cfg.seedBudgetMs, o.deadline - cfg.reserveMs);
    result.seed.ours.budgetSeconds = Math.round(Math.max(0, seedDeadline - performance.now()) / 1000);
    log(`  seeding ours: ${cfg.targetStored.toLocaleString('en-US')} messages through POST /chat/send, ${cfg.seedConcurrency} in flight, ${plan.users} users in ${plan.pairs.length} conversations; at most ${result.seed.ours.budgetSeconds} s`);
    const so = await seedOurs(chat, plan, users, tokens, cfg.targetStored, cfg.seedConcurrency, seedDeadline, log);
    result.seed.ours = { ...result.seed.ours, stored: so.stored, seconds: round3(so.seconds), perSec: round3(so.stored / so.seconds), errors: so.errors };
    log(`  ours: ${so.stored} stored in ${so.seconds.toFixed(1)} s (${(so.stored / so.seconds).toFixed(1)}/s)${Object.keys(so.errors).length ? `, errors ${JSON.stringify(so.errors)}` : ''}`);
    if (so.stored < cfg.targetStored) result.notes.push(`seeding ours through the API stored ${so.stored} of ${cfg.targetStored} in ${so.seconds.toFixed(0)} s (${(so.stored / so.seconds).toFixed(1)}/s)`);
    // The origin gets as many as ours could store: both are measured holding the same data.
    const so2 = await seedOrigin(infra.mongoUrl, originDb, plan, users, so.stored, result.seed.origin.batch, o.deadline - cfg.reserveMs / 2);
    result.seed.origin = { ...result.seed.origin, stored: so2.stored, seconds: round3(so2.seconds), perSec: round3(so2.stored / Math.max(so2.seconds, 0.001)) };
    log(`  origin: ${so2.stored} stored with insertMany in ${so2.seconds.toFixed(1)} s`);
    await waitQuietCpu([chat.pid, ...dbPids()], Math.min(30_000, left() / 4));

    // Pairs for the timed sends: the conversations, both directions, the same for both systems.
    const pairs = plan.pairs.flatMap(([a, b]) => [{ token: tokens[a]!, to: users[b]!.username }, { token: tokens[b]!, to: users[a]!.username }]);
    const sendBase = { lg: o.lg, pairs, maxInFlight: 256, p99BoundMs: LOCAL_DB_P99_MS };
    const extras = () => ({ database: dbPids() });

    // ---- 2. Round trips per send ------------------------------------------------------------
    if (left() > cfg.roundTripSeconds * 1000 + 30_000) {
      const before = await scrape(chat);
      if (before === undefined || !before.includes(ROUND_TRIPS_METRIC)) result.roundTrips.notMeasured = `chat does not expose ${ROUND_TRIPS_METRIC}`;
      else {
        const fromUs = monoMicros();
        const res = await o.lg.send({ chatUrl: chat.url, rate: cfg.roundTripRate, durationMs: cfg.roundTripSeconds * 1000, pairs, maxInFlight: 64, tag: 'rt' });
        windows.roundTrips = { fromUs, toUs: monoMicros() };
        const after = await scrape(chat);
        const labels = { route: '/chat/send', method: 'POST', status: '201' };
        const w = after ? histogramWindow(readHistogram(before, ROUND_TRIPS_METRIC, labels), readHistogram(after, ROUND_TRIPS_METRIC, labels) ?? { buckets: [], sum: 0, count: 0 }) : undefined;
        if (w) result.roundTrips = { sends: w.count, mean: round3(w.mean), maxLe: w.maxLe };
        else result.roundTrips.notMeasured = `no ${ROUND_TRIPS_METRIC}{route="/chat/send",method="POST",status="201"} observation in a window of ${res.ok} sends answered 201`;
        log(`  round trips per send: ${w ? `mean ${w.mean.toFixed(2)}, max ≤ ${w.maxLe} over ${w.count} sends` : result.roundTrips.notMeasured}`);
      }
    } else result.roundTrips.notMeasured = 'budget spent';
    if (result.roundTrips.notMeasured && !windows.roundTrips) log(`  round trips per send: not measured: ${result.roundTrips.notMeasured}`);

    // ---- 3. Reads -------------------------------------------------------------------------
    const rnd = Math.random;
    const pick = () => {
      const u = Math.floor(rnd() * plan.users);
      const peers = plan.peers[u]!;
      return { u, peer: peers.length ? peers[Math.floor(rnd() * peers.length)]! : (u + 1) % plan.users };
    };
    const readDeadline = () => performance.now() + Math.min(60_000, Math.max(0, left() - 60_000) / 3);
    if (left() > 40_000) {
      const s = await timedReads('sync', cfg.readRequests, cfg.readConcurrency, readDeadline(), () => {
        const { u } = pick();
        return { url: new URL('/chat/sync', chat.url), token: tokens[u]! };
      });
      result.sync = s.latency;
      windows.sync = s.window;
      const h = await timedReads('history', cfg.readRequests, cfg.readConcurrency, readDeadline(), () => {
        const { u, peer } = pick();
        return { url: new URL(`/chat/history?with=${encodeURIComponent(users[peer]!.username)}&limit=50`, chat.url), token: tokens[u]! };
      });
      result.history = h.latency;
      windows.history = h.window;
      log(`  ours: sync p50 ${s.latency.p50Ms} / p99 ${s.latency.p99Ms} ms, history p50 ${h.latency.p50Ms} / p99 ${h.latency.p99Ms} ms (${cfg.readRequests} each, ${cfg.readConcurrency} at a time${s.latency.errors + h.latency.errors ? `, errors ${s.latency.errors}+${h.latency.errors}` : ''})`);
      const oh = await timedReads('origin history', cfg.readRequests, cfg.readConcurrency, readDeadline(), () => {
        const { u, peer } = pick();
        return { url: new URL(`/chat/history?with=${encodeURIComponent(users[peer]!.username)}&limit=50`, origin.url), token: tokens[u]! };
      });
      result.originHistory = oh.latency;
      log(`  origin: history p50 ${oh.latency.p50Ms} / p99 ${oh.latency.p99Ms} ms`);
    } else result.notes.push('reads not measured: budget spent');

    // ---- 4. The ramp, both systems in turn ----------------------------------------------------
    const plans = { ours: new RampPlan(cfg.rampRates, cfg.refineSteps), origin: new RampPlan(cfg.rampRates, cfg.refineSteps) };
    const procs = { ours: chat, origin };
    const rampEnd = o.deadline - 25_000; // the at-rest measurement and the teardown come after
    log(`  send ramp, ours and the origin in turn: steps of ${cfg.stepSeconds} s from ${cfg.rampRates[0]}/s, p99 ≤ ${LOCAL_DB_P99_MS} ms`);
    outer: while (!plans.ours.finished || !plans.origin.finished) {
      let ran = false;
      for (const which of ['ours', 'origin'] as const) {
        const rate = plans[which].next();
        if (rate === undefined) continue;
        if (performance.now() + cfg.stepSeconds * 1000 + 10_000 > rampEnd) {
          result.notes.push(`the ramp stopped at the scenario's deadline (${which} was to try ${rate}/s next)`);
          break outer;
        }
        const opts: SendOptions & { p99BoundMs: number; label: string } = { ...sendBase, chat: procs[which], extras: extras(), label: which };
        // For ours, what the database did meanwhile, from its own profile (the cause of a miss).
        const dbProfile = which === 'ours' && chat.profileDir ? profileFerretDb(infraModule.localDatabaseProfileUrl(), cfg.stepSeconds, chat.profileDir, `${rate}-per-s`) : undefined;
        const step = await sendStep(opts, rate, cfg.stepSeconds, rampEnd);
        if (dbProfile) (result.databaseProfiles ??= {})[rate] = await dbProfile;
        const ramp: SystemRamp = result.ramp[which];
        ramp.steps.push({ ...step, ...(ramp.steps.some((s) => s.targetRate === rate) ? { retry: true } : {}) });
        ramp.sustainedRate = sustainedRate(ramp.steps);
        plans[which].record(rate, step.sustainable);
        ran = true;
      }
      if (!ran) break;
    }
    const ratio = result.ramp.origin.sustainedRate > 0 ? (result.ramp.ours.sustainedRate / result.ramp.origin.sustainedRate).toFixed(2) : '—';
    log(`  sustained: ours ${result.ramp.ours.sustainedRate}/s, origin ${result.ramp.origin.sustainedRate}/s (ratio ${ratio})`);

    // ---- 5. The database server at rest ---------------------------------------------------
    if ('roots' in db) {
      result.dbCpuAtRest.roots = db.roots;
      result.dbCpuAtRest.pidSource = db.source;
      // Chat and the origin stay up, idle, as in production: what they do at rest (a relay
      // polling the outbox, say) is the database's load at rest.
      await new Promise((r) => setTimeout(r, result.dbCpuAtRest.waitedSeconds * 1000));
      const clients = { chat: new CpuMeter(() => [chat.pid]).start(), origin: new CpuMeter(() => [origin.pid]).start() };
      const fromUs = monoMicros();
      const t1 = performance.now();
      const before = treeCpuSeconds(db.roots, processTable());
      await new Promise((r) => setTimeout(r, result.dbCpuAtRest.windowSeconds * 1000));
      const after = treeCpuSeconds(db.roots, processTable());
      const wall = (performance.now() - t1) / 1000;
      windows.rest = { fromUs, toUs: monoMicros() };
      result.dbCpuAtRest.cores = round3((after.total - before.total) / wall);
      result.dbCpuAtRest.byProcess = Object.fromEntries(Object.keys(after.byComm).map((k) => [k, round3(((after.byComm[k] ?? 0) - (before.byComm[k] ?? 0)) / wall)]));
      result.dbCpuAtRest.clientsCores = { chat: round3(clients.chat.read()), origin: round3(clients.origin.read()) };
      log(`  database server at rest: ${(result.dbCpuAtRest.cores * 100).toFixed(2)}% of a core (${JSON.stringify(result.dbCpuAtRest.byProcess)}; chat ${result.dbCpuAtRest.clientsCores.chat}, origin ${result.dbCpuAtRest.clientsCores.origin} cores meanwhile)`);
    } else {
      result.dbCpuAtRest.notMeasured = db.notMeasured;
      log(`  database server at rest: not measured: ${db.notMeasured}`);
    }
  } catch (err) {
    // What was measured before the error stays in the result; finish() still stops and explains.
    const message = err instanceof Error ? err.message : String(err);
    log(`  scenario 8 stopped on an error: ${message}`);
    result.notes.push(`stopped on an error: ${message.split('\n')[0]}`);
  } finally {
    result.elapsedSeconds = round3((performance.now() - t0) / 1000);
  }
  return { result, finish };
}

/** GET /metrics of a process (at Proc.metricsUrl), undefined when it does not answer. */
export async function scrape(p: Proc): Promise<string | undefined> {
  const res = await fetch(`${p.metricsUrl}/metrics`).catch(() => undefined);
  return res?.ok ? await res.text() : undefined;
}

async function waitQuietCpu(pids: number[], timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const m = new CpuMeter(() => pids).start();
    await new Promise((r) => setTimeout(r, 1_000));
    if (m.read() < 0.3) return;
  }
}

/** The causes of missed goals, from the profiles chat and the origin wrote on exit. */
function explain(r: LocalDbResult, chat: Proc, origin: Proc, windows: Partial<Record<'sync' | 'history' | 'rest' | 'roundTrips', TimeWindow>>): ProfileSummary[] {
  const chatFile = chat.profileDir ? profilesIn(chat.profileDir).pop() : undefined;
  const originFile = origin.profileDir ? profilesIn(origin.profileDir).pop() : undefined;
  const summaries: ProfileSummary[] = [];
  const profiled = (file: string | undefined, process: string, what: string, w: TimeWindow | undefined): string => {
    if (!file || !w) return `no ${process} profile`;
    const d = describeWindow(file, process, what, w);
    summaries.push(d.summary);
    return d.text;
  };
  // The limit: the lowest rate that failed every try (a rate that passed on its second try was noise).
  const limitOf = (steps: RampStep[]): RampStep | undefined => {
    const failed = steps.filter((s) => !s.sustainable && !steps.some((x) => x.targetRate === s.targetRate && x.sustainable));
    const rate = Math.min(...failed.map((s) => s.targetRate));
    return failed.filter((s) => s.targetRate === rate).at(-1);
  };
  const stepLine = (name: string, s: RampStep) =>
    `at ${s.targetRate}/s ${name} answered ${s.okPerSec}/s with 201, send p99 ${s.sendP99Ms} ms, errors ${Object.values(s.errors).reduce((a, b) => a + b, 0)}, shed ${s.skipped}; CPU ${name} ${s.cpu.others.chat?.toFixed(2)}, database server ${s.cpu.others.database?.toFixed(2) ?? '—'}, broker ${s.cpu.broker.toFixed(2)}, loadgen ${(s.cpu.loadgenSource + s.cpu.loadgenReceivers).toFixed(2)}, whole machine ${s.cpu.machine.toFixed(2)} cores`;
  const set = (id: LocalDbGoalId, text: string) => (r.causes[id] = text);

  const oursLimit = limitOf(r.ramp.ours.steps);
  const originLimit = limitOf(r.ramp.origin.steps);
  // Which process was the busier one at the limit: the database server, or the service itself.
  const busier = (name: string, s: RampStep) => {
    const own = s.cpu.others.chat ?? 0;
    const dbCpu = s.cpu.others.database;
    if (dbCpu === undefined || !Number.isFinite(dbCpu)) return '';
    return dbCpu > own ? ` The database server was busier than ${name} (${dbCpu.toFixed(2)} vs ${own.toFixed(2)} cores): the limit is in the database's work for these requests, not ${name}'s own CPU.` : ` ${name} was busier than the database server (${own.toFixed(2)} vs ${dbCpu.toFixed(2)} cores).`;
  };
  const originText = originLimit
    ? `The origin: ${stepLine('origin', originLimit)}.${busier('the origin', originLimit)} ${profiled(originFile, 'origin', `its unsustained send step at ${originLimit.targetRate}/s`, originLimit.window)}`
    : 'The origin sustained every step it tried.';
  const dbProfile = oursLimit ? r.databaseProfiles?.[oursLimit.targetRate] : undefined;
  const dbText = !dbProfile ? '' : 'unavailable' in dbProfile ? ` No FerretDB profile: ${dbProfile.unavailable}.` : ` ${describeFerretProfile(dbProfile)}`;
  const oursText = oursLimit
    ? `${stepLine('chat', oursLimit)}.${busier('chat', oursLimit)}${dbText} ${profiled(chatFile, 'chat', `its unsustained send step at ${oursLimit.targetRate}/s`, oursLimit.window)}`
    : `chat sustained every step it tried (${r.ramp.ours.steps.at(-1)?.targetRate ?? 0}/s last): the ramp ended before chat's limit`;
  set('local-db-send-rate', oursText);
  set('local-db-ratio', `ours ${r.ramp.ours.sustainedRate}/s vs origin ${r.ramp.origin.sustainedRate}/s. Ours: ${oursText}. ${originText}`);
  if (r.sync && r.history) {
    const slower = r.sync.p99Ms >= r.history.p99Ms ? 'sync' : 'history';
    set('local-db-reads-p99', profiled(chatFile, 'chat', `the GET /chat/${slower} window (p99 ${r[slower]!.p99Ms} ms)`, windows[slower]));
  }
  const c = r.dbCpuAtRest;
  if (c.cores !== undefined) {
    const byProc = Object.entries(c.byProcess ?? {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', ');
    set('local-db-cpu-at-rest', `database processes (by name, % of a core): ${byProc}; meanwhile chat used ${((c.clientsCores?.chat ?? NaN) * 100).toFixed(2)}% and the origin ${((c.clientsCores?.origin ?? NaN) * 100).toFixed(2)}% of a core. ${profiled(chatFile, 'chat', 'the at-rest window', windows.rest)}`);
  }
  if (r.roundTrips.mean !== undefined) set('local-db-round-trips', `mean ${r.roundTrips.mean} database commands per send answered 201, the largest in a bucket ≤ ${r.roundTrips.maxLe} (from chat's ${ROUND_TRIPS_METRIC}). ${profiled(chatFile, 'chat', 'the round-trip window', windows.roundTrips)}`);
  return summaries;
}
