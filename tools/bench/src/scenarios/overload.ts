/**
 * Scenario 12, overload (issue 17): on the local default stack, Chat is driven past what it can do
 * and must shed what it cannot do quickly, keep doing what it can, and come back by itself.
 *
 *   1. The sustainable send rate, found in this run by scenario 8's ramp plan over scenario 4's
 *      steps (`plannedRamp`: no error (a 503 is one), nothing skipped at the client's in-flight
 *      cap, ≥ 95 % of the target, p99 ≤ 100 ms).
 *   2. One open-loop schedule, no gap: `factor` (3) × that rate for `overloadSeconds` (20), then
 *      `recoveryShare` (½) × it for `recoverySeconds` (10). Every request is recorded (sent at,
 *      latency, status) with the client timeout of the chaos test's senders (5 s) and an in-flight
 *      cap far above what 1 s answers need, so the client never skips a send for the server. No retries:
 *      the offered rate is the arrival rate, as from many independent clients. The requests reach
 *      Chat over a pool of OVERLOAD_CONNECTIONS kept-alive connections opened before the schedule,
 *      as through an ingress (overload-plan.ts says why).
 *   3. Judged as ratios in the same run (overload-plan.ts): goodput ÷ the sustainable rate, the
 *      share answered within 1 s, the 201s' p99, the shed share, and the seconds after the drop
 *      until p99 is back under the bound with nothing shed.
 *
 * Its own Chat, with the service's default admission limits, on a database of its own (dropped at
 * the end), so the run holds only this scenario's sends; no gateway (a send's cost is Chat's and
 * the database's; the outbox still publishes every message to the broker).
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Stack } from '@chat/testkit';
import type { LoadGen } from '../loadgen/pool.js';
import { scheduleMs } from '../loadgen/schedule.js';
import { processTable, processTree, tcpExtCounters } from '../proc.js';
import { ProgressLine } from '../progress.js';
import { histogramWindow, readCounter, readHistogram } from '../prom.js';
import { round3 } from '../stats.js';
import { startOurs, type BenchUser, type Proc } from '../stack.js';
import { roundCpu, waitCpuQuiet, WindowMeters } from './common.js';
import { plannedRamp, SUSTAINABLE_SEND_P99_MS } from './e2e.js';
import { databaseRoots, scrape } from './local-db.js';
import { conversationPlan, RampPlan } from './local-db-plan.js';
import { judgeRun, OVERLOAD_CLIENT_TIMEOUT_MS, OVERLOAD_CONNECTIONS, OVERLOAD_MAX_IN_FLIGHT, overloadPhases, type OverloadConfig, type OverloadResult } from './overload-plan.js';

export interface OverloadOptions {
  stack: Stack;
  auth: Proc;
  lg: LoadGen;
  users: BenchUser[];
  mint: (u: BenchUser) => Promise<string>;
  cfg: OverloadConfig;
  deadline: number;
  track: (p: Proc) => void;
  log: (msg: string) => void;
}

export interface OverloadRun {
  result: OverloadResult;
  /** Stops the scenario's chat and drops its database. */
  finish(): Promise<void>;
}

/** Chat's admission metrics (issue 17's contract): refusals by reason and the wait of admitted requests. */
const SHED_METRIC = 'chat_admission_shed_total';
const WAIT_METRIC = 'chat_admission_wait_seconds';
const SHED_REASONS = ['wait_budget', 'queue_full', 'deadline', 'draining'] as const;
/** The admission variables chat reads; the scenario runs with whatever the stack gives (its defaults). */
const ADMISSION_VARS = ['ADMISSION_MAX_IN_FLIGHT', 'ADMISSION_MAX_WAIT_MS', 'ADMISSION_ANSWER_WITHIN_MS'] as const;

export async function overloadScenario(o: OverloadOptions): Promise<OverloadRun> {
  const { cfg, log, stack } = o;
  const t0 = performance.now();
  const run = randomBytes(3).toString('hex');
  const chatDb = `bench_overload_chat_${run}`;
  const plan = conversationPlan(Math.min(cfg.users, o.users.length), cfg.peersPerUser, 12);
  const users = o.users.slice(0, plan.users);
  const tokens = await Promise.all(users.map(o.mint));
  const chatEnv = stack.envOf('chat');
  const result: OverloadResult = {
    ramp: { steps: [], sustainedRate: 0, p99BoundMs: SUSTAINABLE_SEND_P99_MS, stepSeconds: cfg.rampStepSeconds },
    users: plan.users,
    conversations: plan.pairs.length,
    phases: [],
    seconds: [],
    recoverySeconds: null,
    admissionEnv: Object.fromEntries(ADMISSION_VARS.filter((k) => chatEnv[k] !== undefined).map((k) => [k, chatEnv[k]!])),
    notes: [],
    elapsedSeconds: 0,
  };

  log(`scenario 12: overload; chat on database ${chatDb}, ${plan.users} users in ${plan.pairs.length} conversations`);
  const chat = await startOurs(stack, 'chat', { env: { CHAT_MONGO_DB: chatDb }, label: 'chat-overload' });
  o.track(chat);
  const db = databaseRoots(stack.infra.mongoUrl);
  const dbPids = () => ('roots' in db ? processTree(db.roots, processTable()) : []);
  const finish = async () => {
    await chat.stop();
    const client = new MongoClient(stack.infra.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    await client.db(chatDb).dropDatabase().catch(() => undefined);
    await client.close().catch(() => undefined);
  };

  try {
    // Both directions of every conversation; the first message of each (unmeasured) fills chat's
    // recipient cache and creates the conversation, so the ramp times steady-state sends.
    const pairs = plan.pairs.flatMap(([a, b]) => [{ token: tokens[a]!, to: users[b]!.username }, { token: tokens[b]!, to: users[a]!.username }]);
    // The last message is due exactly at the schedule's end: 20 ms more (less than one more send
    // at 50/s) so the loop's last tick still sends it.
    const opening = pairs.filter((_, i) => i % 2 === 0);
    const warm = await o.lg.send({ chatUrl: chat.url, rate: 50, durationMs: Math.ceil((opening.length / 50) * 1000) + 20, pairs: opening, maxInFlight: 256, tag: 'warm' });
    log(`  warm-up: ${warm.ok} of ${opening.length} conversations opened (201)${Object.keys(warm.errors).length ? `, errors ${JSON.stringify(warm.errors)}` : ''}${warm.skipped ? `, ${warm.skipped} skipped at the in-flight cap` : ''}`);
    if (warm.ok < opening.length) result.notes.push(`${opening.length - warm.ok} of ${opening.length} conversations were not opened by the warm-up (their first message came during the ramp)`);
    const extras = () => ({ database: dbPids(), auth: [o.auth.pid] });
    await waitCpuQuiet([chat.pid, ...dbPids()], 0.3, 20_000);

    // ---- 1. The sustainable rate ------------------------------------------------------------
    // What the 3× and ½× phases need after the ramp: the run itself, a wait for quiet, teardown.
    const reserveMs = (cfg.overloadSeconds + cfg.recoverySeconds) * 1000 + 40_000;
    log(`  the sustainable rate: steps of ${cfg.rampStepSeconds} s from ${cfg.rampRates[0]}/s, p99 ≤ ${SUSTAINABLE_SEND_P99_MS} ms`);
    const ramp = await plannedRamp({ lg: o.lg, chat, pairs, extras: extras(), maxInFlight: 256, plan: new RampPlan(cfg.rampRates, cfg.refineSteps), seconds: cfg.rampStepSeconds, deadline: o.deadline - reserveMs, label: 'overload ramp' });
    result.ramp.steps = ramp.steps;
    result.ramp.sustainedRate = ramp.sustainedRate;
    log(`  sustainable: ${ramp.sustainedRate}/s (${ramp.steps.length} steps)`);
    if (ramp.sustainedRate <= 0) {
      result.notes.push(ramp.steps.length ? `no ramp step was sustained (the first: ${ramp.steps[0]!.targetRate}/s)` : 'the ramp did not run (budget spent)');
      return { result, finish };
    }
    if (o.deadline - performance.now() < reserveMs - 20_000) {
      result.notes.push('budget spent before the overload run');
      return { result, finish };
    }

    // ---- 2. 3× then ½×, one schedule --------------------------------------------------------
    result.phases = overloadPhases(ramp.sustainedRate, cfg);
    const [over, rec] = result.phases as [(typeof result.phases)[0], (typeof result.phases)[0]];
    await waitCpuQuiet([chat.pid, ...dbPids()], 0.3, 20_000);
    const before = await scrape(chat);
    const tcpBefore = tcpExtCounters();
    log(`  overload: ${over.rate}/s for ${over.durationMs / 1000} s, then ${rec.rate}/s for ${rec.durationMs / 1000} s (open loop, client timeout ${OVERLOAD_CLIENT_TIMEOUT_MS / 1000} s)`);
    const progress = new ProgressLine('overload');
    const meters = { overload: new WindowMeters([], o.lg, { chat: [chat.pid], ...extras() }), recovery: undefined as WindowMeters | undefined };
    let overloadCpu: ReturnType<WindowMeters['read']> | undefined;
    const drop = setTimeout(() => {
      overloadCpu = meters.overload.read();
      meters.recovery = new WindowMeters([], o.lg, { chat: [chat.pid], ...extras() });
    }, over.durationMs);
    const s0 = performance.now();
    o.lg.sourceWorker().progress.sent = 0;
    const ticker = setInterval(() => progress.update({ rate: (o.lg.sourceWorker().progress.sent ?? 0) / ((performance.now() - s0) / 1000), extra: `201s so far; ${performance.now() - s0 < over.durationMs ? `${over.rate}/s offered` : `${rec.rate}/s offered since the drop`}` }), 500);
    let res;
    try {
      res = await o.lg.send({ chatUrl: chat.url, rate: over.rate, durationMs: scheduleMs(result.phases), phases: result.phases, pairs, maxInFlight: OVERLOAD_MAX_IN_FLIGHT, connections: OVERLOAD_CONNECTIONS, timeoutMs: OVERLOAD_CLIENT_TIMEOUT_MS, records: true, tag: `o${run}` });
    } finally {
      clearTimeout(drop);
      clearInterval(ticker);
      progress.done();
    }
    const recoveryCpu = meters.recovery?.read();
    const tcpAfter = tcpExtCounters();
    if (tcpBefore?.ListenOverflows !== undefined && tcpAfter?.ListenOverflows !== undefined) result.listenOverflows = tcpAfter.ListenOverflows - tcpBefore.ListenOverflows;
    const clientErrors = Object.fromEntries(Object.entries(res.errors).filter(([k]) => !k.startsWith('http_')));
    if (Object.keys(clientErrors).length) result.clientErrors = clientErrors;
    if (overloadCpu && recoveryCpu) result.cpu = { overload: roundCpu(overloadCpu.cpu), recovery: roundCpu(recoveryCpu.cpu) };
    judgeRun(result, res.records ?? []);

    // ---- 3. Chat's own account of what it shed ----------------------------------------------
    const after = await scrape(chat);
    if (before !== undefined && after !== undefined && readCounter(after, SHED_METRIC) !== undefined)
      result.admissionShed = Object.fromEntries(SHED_REASONS.map((reason) => [reason, (readCounter(after, SHED_METRIC, { reason }) ?? 0) - (readCounter(before, SHED_METRIC, { reason }) ?? 0)]));
    const wait = after !== undefined ? readHistogram(after, WAIT_METRIC, {}) : undefined;
    const waited = wait ? histogramWindow(before !== undefined ? readHistogram(before, WAIT_METRIC, {}) : undefined, wait) : undefined;
    if (waited) result.admissionWait = { admitted: waited.count, meanMs: round3(waited.mean * 1000), maxLeMs: waited.maxLe * 1000 };
    const ov = result.overload!;
    const rc = result.recovery!;
    log(
      `  overload: ${ov.ok} × 201 (${ov.okPerSec}/s = ${result.goodputRatio}× of ${ramp.sustainedRate}/s), ${ov.shed} × 503 (${(ov.shedShare * 100).toFixed(1)} %), other ${JSON.stringify(ov.failed)}; ` +
        `within 1 s ${(ov.answeredWithinShare * 100).toFixed(2)} %, 201 p99 ${ov.okP99Ms} ms, slowest ${ov.slowestMs} ms`,
    );
    log(`  after the drop: ${rc.ok} × 201 (p99 ${rc.okP99Ms} ms), ${rc.shed} × 503; back under ${SUSTAINABLE_SEND_P99_MS} ms with nothing shed after ${result.recoverySeconds ?? `more than ${rc.seconds}`} s${result.admissionShed ? `; chat shed ${JSON.stringify(result.admissionShed)}` : ''}`);
  } catch (err) {
    // What was measured before the error stays in the result; finish() still stops chat.
    const message = err instanceof Error ? err.message : String(err);
    log(`  scenario 12 stopped on an error: ${message}`);
    result.notes.push(`stopped on an error: ${message.split('\n')[0]}`);
  } finally {
    result.elapsedSeconds = round3((performance.now() - t0) / 1000);
  }
  return { result, finish };
}
