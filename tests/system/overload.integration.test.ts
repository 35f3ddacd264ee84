/**
 * Overload and drain (issue 17): Chat sheds what it cannot do, fast, and comes back by itself;
 * a drain never turns work into a 500.
 *
 * 1. Overload. Sends at 3× the sustainable rate for 20 s, then at half of it for 15 s:
 *    - during the overload every answer arrives within 1 s and is a 201 or a 503 (with
 *      Retry-After): never a timeout, a 500 or a dropped connection;
 *    - within 10 s after the drop, p99 is back under the goal and nothing is shed.
 * 2. Drain. SIGTERM to Chat under 1.5× the sustainable rate: no 500 on the wire nor in its log,
 *    and every acknowledged message is stored.
 *
 * **The sustainable rate is measured here, in the same run,** because the machine is shared and
 * its capacity varies from run to run (BENCHMARKS.md scenario 8 measured 307/s on an idle
 * machine; a fixed 900/s would be a mild load on one day and a collapse of the whole machine on
 * another). It is scenario 8's definition, on a short open-loop ramp: steps of 3 s from 40/s,
 * ×1.4 per step, a step *sustained* when every request got a 201, at ≥ 95 % of the target rate,
 * with p99 ≤ 50 ms, and tried once more when it was not. The sustainable rate is the highest
 * step sustained. The ramp goes on while Chat *keeps up* (the same, with the median instead of
 * p99 within 50 ms: no queue builds), and stops at the first step it does not keep up with twice.
 *
 * **Why two rates.** On a machine whose other processes take the cores in bursts, p99 is set by
 * their stalls, not by Chat: a first run here (whole machine 1.96 of 2 cores busy) sustained
 * only 84/s by p99, while Chat kept up with 3× that with a median of 32 ms. 3× such a rate is no
 * overload, and a test that cannot overload cannot fail. So the overload is 3× the sustainable
 * rate, and never less than 2× the highest rate Chat kept up with on the ramp. Not 1.5×: the
 * ramp's steps of 3 s stop short of what Chat serves with its requests in flight batched (one
 * run kept up with 300/s on the ramp, then served 454 of 459/s offered with 1 % shed), and an
 * overload Chat can nearly serve proves little. The drop goes to half the sustainable rate,
 * where p99 is within the goal unless something is left over. The test also checks that the
 * overload took effect: 503s, or a median over the goal (a queue).
 *
 * **Back under the goal** after the drop means p99 ≤ 50 ms, or, when this machine did not give
 * 50 ms at that same rate in the 5 s just before the overload, p99 ≤ what it gave then: the
 * other work on a shared machine sets the tail at a low rate too (one run: p99 114 ms at 107/s
 * before the overload, 65 ms after it), and the test cannot ask of Chat after the overload what
 * the machine did not give it before. On an idle machine that is the 50 ms goal. Nothing shed
 * or failed from 10 s after the drop holds whatever the machine.
 *
 * **The p99 goal is 50 ms**, scenario 8's "sustained sends/s with p99 ≤ 50 ms" on the local
 * default database, which is what this test runs on (scenario 4's 100 ms is the end-to-end
 * ramp's looser bound over 10,000 sockets). Sends are open-loop (open-loop-sends.ts) over 400
 * pairs, each its own conversation (Chat serializes a conversation's appends: with 100, the
 * overload put 9 sends/s on each and the test measured that queue), with a client timeout of
 * 10 s, so a slow answer is measured as slow rather than cut. The overload reaches Chat over a
 * pool of kept-alive connections opened before it (POOL), as an ingress reaches a pod: without
 * it every request beyond the open connections opened a new one, and what was measured was the
 * accept queue of a process on a saturated machine (README, "Overload and recovery").
 *
 * It loads Chat and the database to the point of refusal, so it runs on a PRIVATE
 * infrastructure instance (`<repo>/.infra/overload-instance`, its own ports), never on the shared
 * one other test runs use, unless CHAT_INFRA_DIR already names a private one. It prints what it
 * measured; README "Overload and recovery" quotes it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMISSION_SHED_REASONS } from '@chat/common/koa';
import { canControl, ensureInfra, infraDir, infraStatus, localDatabaseProcesses, repoRoot, stopInfra } from '@chat/infra';
import { sleep, startStack, type RunningService, type Stack } from '@chat/testkit';
import { MetricsSnapshot, scrape } from './metrics-snapshot.ts';
import { OpenLoopSends, type SendPair } from './open-loop-sends.ts';
import { CpuSampler } from './process-cpu.ts';
import { countOutcomes, isAcknowledged, quantile, recoveredAfter, startedIn, summarize, SEND_OUTCOMES, type AnswerSummary, type SendAnswer, type SendOutcome } from './send-answers.ts';
import { syncIds } from './support.ts';

// Decided before anything asks @chat/infra for servers (it reads CHAT_INFRA_DIR at every call).
const givenDir = process.env.CHAT_INFRA_DIR;
const ownInstance = !givenDir || resolve(repoRoot(), givenDir) === join(repoRoot(), '.infra');
if (ownInstance) process.env.CHAT_INFRA_DIR = join(repoRoot(), '.infra', 'overload-instance');

const PAIRS = 400;
/** Scenario 8's goal on the local default database (see the header). */
const P99_GOAL_MS = 50;
/** Issue 17: during the overload every answer within 1 s. */
const ANSWER_BOUND_MS = 1_000;
/** Issue 17: within 10 s after the drop, p99 under the goal and nothing shed. */
const RECOVERY_BOUND_MS = 10_000;
const OVERLOAD_FACTOR = 3;
const OVERLOAD_MS = 20_000;
const AFTER_DROP_MS = 15_000;
const BASELINE_MS = 5_000;
/** A client's patience: longer than every bound asserted, so slowness is measured, not hidden. */
const CLIENT_TIMEOUT_MS = 10_000;
const RAMP = { fromPerSecond: 40, factor: 1.4, stepMs: 3_000, maxPerSecond: 3_000 };
/** The overload is never less than this many times the highest rate Chat kept up with (see the header). */
const CAPACITY_FACTOR = 2;
const DRAIN_FACTOR = 1.5;
/**
 * The overload reaches Chat over a pool of this many kept-alive connections, opened before it
 * starts (open-loop-sends.ts): how an ingress reaches a pod. It is several times what the
 * overload keeps in flight (rate × answer time: about 250 at 1,600/s), so requests wait for one
 * only when answers are slow, and that wait counts in their latency.
 */
const POOL = 512;

const ms = (x: number) => `${Math.round(x)} ms`;
const describeSummary = (s: AnswerSummary) =>
  `${s.count} requests, ${SEND_OUTCOMES.filter((o) => s.outcomes[o] > 0).map((o) => `${o} ${s.outcomes[o]}`).join(', ') || 'none'}; ` +
  `latency p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}; 201/200 p99 ${ms(s.okP99)}; ${s.okPerSecond.toFixed(0)} acknowledged/s; over 1 s: ${s.slower}`;

/** The kernel's TCP counters that say whether connects or segments were dropped and sent again. */
const TCP_COUNTERS = ['ListenOverflows', 'ListenDrops', 'TCPReqQFullDoCookies', 'TCPReqQFullDrop', 'TCPSynRetrans', 'TCPTimeouts', 'TCPBacklogDrop', 'TCPRcvQDrop', 'RetransSegs'];

/**
 * Those counters now, for the whole machine (/proc/net/netstat and /proc/net/snmp): a connect
 * the kernel dropped (a full accept queue) is retried by the client's TCP after 1 s, then 3 s.
 */
function tcpCounters(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [file, prefix] of [['/proc/net/netstat', 'TcpExt:'], ['/proc/net/snmp', 'Tcp:']] as const) {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith(prefix));
    const [names, values] = [lines[0]?.split(/\s+/) ?? [], lines[1]?.split(/\s+/) ?? []];
    for (const c of TCP_COUNTERS) if (names.includes(c)) out[c] = Number(values[names.indexOf(c)]);
  }
  return out;
}

/** How many of `answers` took 1–2 s, 2–4 s, 4–8 s and longer. */
function slowBuckets(answers: readonly SendAnswer[]): string {
  const edges = [1_000, 2_000, 4_000, 8_000, Infinity];
  return edges
    .slice(0, -1)
    .map((from, i) => `${from / 1000}–${edges[i + 1] === Infinity ? '∞' : edges[i + 1]! / 1000} s: ${answers.filter((a) => a.endedAt - a.startedAt > from && a.endedAt - a.startedAt <= edges[i + 1]!).length}`)
    .join(', ');
}

/** The whole machine's busy CPU seconds so far (every process, other engineers' too), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = ticks.slice(0, 8).reduce((a, b, i) => (i === 3 || i === 4 ? a : a + b), 0);
  return busy / 100;
}

describe('overload and drain', async () => {
  const controllable = await canControl('mongo');
  const skip = controllable ? false : 'MONGO_URL is set: this run cannot give the test a database of its own to overload';
  let s: Stack | undefined;
  let pairs: SendPair[] = [];
  /** The sustainable rate the first test measured; the drain test loads Chat relative to it. */
  let sustainable: number | undefined;

  before(async () => {
    if (!controllable) return;
    await ensureInfra({ quiet: true });
    const st = await infraStatus();
    assert.ok(st.every((e) => e.source === 'local' || e.source === 'testcontainers'), 'servers of this test alone');
    s = await startStack({ services: ['auth', 'chat'] });
    const users: SendPair[] = [];
    for (let i = 0; i < PAIRS; i += 20)
      users.push(...(await Promise.all(Array.from({ length: Math.min(20, PAIRS - i) }, async () => ({ sender: await s!.user('snd'), receiver: await s!.user('rcv') })))));
    pairs = users;
  });
  after(async () => {
    await s?.stop();
    if (ownInstance && controllable) await stopInfra();
  });

  it('3× the sustainable rate: every answer within 1 s (201 or 503); after the drop to half, p99 back under 50 ms with nothing shed within 10 s', { skip, timeout: 5 * 60_000 }, async () => {
    const stack = s!;
    const load = new OpenLoopSends(pairs, () => stack.chat.url, CLIENT_TIMEOUT_MS, { maxSockets: POOL });
    const cpu = new CpuSampler(500);
    cpu.add('chat', () => [stack.chat.proc.pid!]);
    cpu.add('database', () => localDatabaseProcesses());
    cpu.add('load (this test)', () => [process.pid], false);
    cpu.start();
    // What Chat says about itself, 4 times a second, each figure from one scrape (metrics-snapshot.ts).
    const vitals: MetricsSnapshot[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const snap = await scrape(stack.chat);
        if (snap) vitals.push(snap);
        await sleep(250);
      }
    })();
    const lines: string[] = [];
    try {
      // Warm up (JIT, connections, the first documents), not measured.
      load.setRate(RAMP.fromPerSecond);
      await sleep(2_000);
      load.setRate(0);
      await load.settled();

      // The sustainable rate and the rate Chat keeps up with, on one ramp (see the header).
      const step = async (rate: number): Promise<{ p99Pass: boolean; keptUp: boolean }> => {
        const from = Date.now();
        load.setRate(rate);
        await sleep(RAMP.stepMs);
        load.setRate(0);
        const to = Date.now();
        await load.settled();
        const sum = summarize(load.answers, from, to);
        const keptUp = sum.outcomes.created + sum.outcomes.repeat === sum.count && sum.okPerSecond >= 0.95 * rate && sum.p50 <= P99_GOAL_MS;
        const p99Pass = keptUp && sum.p99 <= P99_GOAL_MS;
        lines.push(`  ramp ${rate}/s: ${p99Pass ? 'sustained' : keptUp ? 'kept up, p99 over the goal' : 'not kept up'}; ${describeSummary(sum)}`);
        await sleep(500);
        return { p99Pass, keptUp };
      };
      let best = 0;
      let keptUpTo = 0;
      for (let rate = RAMP.fromPerSecond; rate <= RAMP.maxPerSecond; rate = Math.round(rate * RAMP.factor)) {
        let r = await step(rate);
        if (!r.p99Pass) {
          const again = await step(rate); // a failed step is tried once more
          r = { p99Pass: again.p99Pass, keptUp: r.keptUp || again.keptUp };
        }
        if (r.p99Pass) best = rate;
        if (!r.keptUp) break;
        keptUpTo = rate;
      }
      assert.ok(best > 0, `not even ${RAMP.fromPerSecond} sends/s were sustained with p99 ≤ ${P99_GOAL_MS} ms:\n${lines.join('\n')}`);
      sustainable = best;
      const overloadRate = Math.max(OVERLOAD_FACTOR * best, Math.round(CAPACITY_FACTOR * keptUpTo));

      // Half the sustainable rate before the overload: what p99 this machine gives at the rate
      // the drop goes to, with nothing left over (reported beside the recovery, not asserted).
      const baseFrom = Date.now();
      load.setRate(best / 2);
      await sleep(BASELINE_MS);
      const baseline = summarize(load.answers, baseFrom, Date.now(), ANSWER_BOUND_MS);

      // The overload, then the drop, over a pool opened now (the baseline's low rate let most of it idle out).
      const pooled = await load.warm(POOL);
      lines.push(`  connection pool before the overload: ${pooled} of ${POOL} open`);
      const atStart = await scrape(stack.chat);
      const tcp0 = tcpCounters();
      const busy0 = machineBusySeconds();
      const overStart = Date.now();
      load.setRate(overloadRate);
      await sleep(OVERLOAD_MS);
      const dropAt = Date.now();
      const busy1 = machineBusySeconds();
      const tcp1 = tcpCounters();
      const atDrop = await scrape(stack.chat);
      load.setRate(best / 2);
      await sleep(AFTER_DROP_MS);
      const end = Date.now();
      load.setRate(0);
      await load.settled();
      const atEnd = await scrape(stack.chat);

      const over = summarize(load.answers, overStart, dropAt, ANSWER_BOUND_MS);
      const low = summarize(load.answers, dropAt, end, ANSWER_BOUND_MS);
      const lateLow = summarize(load.answers, dropAt + RECOVERY_BOUND_MS, end, ANSWER_BOUND_MS);
      // Back under the goal, or under what this machine gave at the same rate just before the
      // overload when it did not give the goal then (see the header).
      const recoveryGoal = Math.max(P99_GOAL_MS, baseline.p99);
      const recovered = recoveredAfter(load.answers, dropAt, end, recoveryGoal);
      const lastNotOk = startedIn(load.answers, dropAt, end).filter((x) => !isAcknowledged(x)).reduce<number | undefined>((m, x) => Math.max(m ?? 0, x.startedAt), undefined);
      const overAnswers = startedIn(load.answers, overStart, dropAt);
      const wrong503 = overAnswers.filter((a) => a.outcome === 'unavailable' && !(a.code === 'unavailable' && (a.retryAfter ?? 0) >= 1));
      const perSecond = (from: number, to: number) => perSecondOf(load.answers, from, to);
      const cores = (from: number, to: number) => cpu.names().map((n) => `${n} ${cpu.cores(n, from, to)?.toFixed(2) ?? '-'}`).join(', ');
      lines.unshift(`overload: sustainable ${best}/s (p99 ≤ ${P99_GOAL_MS} ms, nothing shed), kept up with ${keptUpTo}/s (p50 ≤ ${P99_GOAL_MS} ms); overload ${overloadRate}/s (${(overloadRate / best).toFixed(1)}× sustainable, ${(overloadRate / keptUpTo).toFixed(1)}× kept up) for ${OVERLOAD_MS / 1000} s, then ${best / 2}/s for ${AFTER_DROP_MS / 1000} s; ${PAIRS} pairs; client timeout ${CLIENT_TIMEOUT_MS / 1000} s`);
      lines.push(
        `  before the overload, at ${best / 2}/s for ${BASELINE_MS / 1000} s: ${describeSummary(baseline)}`,
        `  overload: ${describeSummary(over)}; goodput ${(over.okPerSecond / best).toFixed(2)}× the sustainable rate`,
        `  overload, per second (201+200 / 503 / other, p99): ${perSecond(overStart, dropAt)}`,
        `  after the drop: ${describeSummary(low)}; the last request shed or failed was sent ${lastNotOk === undefined ? '(none)' : `${ms(lastNotOk - dropAt)} after the drop`}; back to p99 ≤ ${ms(recoveryGoal)} with nothing shed after ${recovered === undefined ? 'never' : ms(recovered)}`,
        `  after the drop, per second: ${perSecond(dropAt, end)}`,
        `  from ${RECOVERY_BOUND_MS / 1000} s after the drop: ${describeSummary(lateLow)}`,
        `  Chat's own view of the overload: ${chatView(atStart, atDrop)}`,
        `  Chat's own view after the drop: ${chatView(atDrop, atEnd)}`,
        `  Chat's vitals during the overload (max of 250 ms samples): ${vitalsOf(vitals, overStart, dropAt)}; after the drop: ${vitalsOf(vitals, dropAt, end)}`,
        `  cores during the overload: ${cores(overStart, dropAt)}, whole machine ${((busy1 - busy0) / ((dropAt - overStart) / 1000)).toFixed(2)} of 2; after the drop: ${cores(dropAt, end)}`,
        `  the load's schedule lag: at most ${ms(load.lagMs)}`,
        `  answers over 1 s during the overload: ${overAnswers.filter((x) => x.endedAt - x.startedAt > ANSWER_BOUND_MS && x.connectMs !== undefined).length} on a new connection, whose connect took p50 ${ms(quantile(overAnswers.filter((x) => x.endedAt - x.startedAt > ANSWER_BOUND_MS && x.connectMs !== undefined).map((x) => x.connectMs!), 0.5))}; new connections in the overload ${overAnswers.filter((x) => x.connectMs !== undefined).length} of ${overAnswers.length}`,
        `  answers over 1 s during the overload, by latency: ${slowBuckets(overAnswers)}; the kernel's TCP counters meanwhile (the whole machine's): ${TCP_COUNTERS.map((c) => `${c} ${(tcp1[c] ?? NaN) - (tcp0[c] ?? NaN)}`).join(', ')}`,
      );
      console.log(lines.join('\n'));

      assert.deepEqual(
        Object.fromEntries(Object.entries(over.outcomes).filter(([o, n]) => n > 0 && o !== 'created' && o !== 'repeat' && o !== 'unavailable')),
        {},
        'during the overload every request was answered 201/200 or 503: no timeout, no 500, no refused or dropped connection',
      );
      assert.ok(over.max <= ANSWER_BOUND_MS, `during the overload every answer within ${ANSWER_BOUND_MS} ms: the slowest took ${ms(over.max)}, ${over.slower} took longer`);
      assert.deepEqual(wrong503.slice(0, 5), [], "every 503 is the envelope's unavailable with Retry-After ≥ 1 s");
      assert.ok(
        over.outcomes.unavailable > 0 || over.p50 > P99_GOAL_MS,
        `the overload took effect (${overloadRate}/s offered, ${over.okPerSecond.toFixed(0)}/s acknowledged, no 503 and a median of ${ms(over.p50)}): the calibration measured too low a rate to overload Chat`,
      );
      assert.ok(recovered !== undefined && recovered <= RECOVERY_BOUND_MS, `within ${RECOVERY_BOUND_MS} ms after the drop p99 ≤ ${ms(recoveryGoal)} with nothing shed (back after ${recovered === undefined ? 'never' : ms(recovered)})`);
      assert.equal(lateLow.count - lateLow.outcomes.created - lateLow.outcomes.repeat, 0, `nothing shed or failed from ${RECOVERY_BOUND_MS} ms after the drop`);
      // (lateLow's p99 is printed, not asserted: the assertion above already holds every request from
      // the recovery to the end, ≤ 10 s after the drop, to the goal; a p99 of the last 5 s alone is
      // the tenth-slowest of about 1,000 answers, and one run read 53 ms there while the window
      // from 6.5 s to the end, which holds it, read under 50 ms.)
    } finally {
      cpu.stop();
      sampling = false;
      await sampler;
      await load.stop();
      load.close();
    }
  });

  it('SIGTERM under load: no 500 on the wire nor in the log; every acknowledged message is stored', { skip, timeout: 3 * 60_000 }, async () => {
    const stack = s!;
    // Loaded past what it sustains, so requests are queued when the signal comes (the issue's
    // drain had 1,140 queued); the first test's rate, or scenario 8's when it ran alone.
    const rate = Math.round(DRAIN_FACTOR * (sustainable ?? 300));
    const load = new OpenLoopSends(pairs, () => stack.chat.url, CLIENT_TIMEOUT_MS);
    const draining: RunningService = stack.chat;
    try {
      load.setRate(rate);
      await sleep(5_000);
      const termAt = Date.now();
      const restarted = stack.restart('chat', 'SIGTERM');
      const exitCode = await draining.exited;
      const exitedAt = Date.now();
      const fresh = await restarted;
      const readyAt = Date.now();
      await sleep(3_000);
      load.setRate(0);
      await load.settled();
      const loadEnd = Date.now();

      // Every message not acknowledged, sent again with its clientMsgId as a client would: a
      // repeat (200) says it had been stored.
      const firstTry = [...load.answers];
      const unacknowledged = firstTry.filter((a) => !isAcknowledged(a));
      const resent = new Map<string, SendAnswer>();
      const retryUntil = Date.now() + 30_000;
      for (let i = 0; i < unacknowledged.length; i += 16)
        await Promise.all(
          unacknowledged.slice(i, i + 16).map(async (a) => {
            for (;;) {
              const r = await load.sendOnce({ pair: a.pair, clientMsgId: a.clientMsgId });
              if (isAcknowledged(r) || r.outcome === 'refused' || Date.now() > retryUntil) return void resent.set(a.clientMsgId, r);
              await sleep(1_000 * (r.retryAfter ?? 1) * (1 + Math.random()));
            }
          }),
        );
      const cutButStored = unacknowledged.filter((a) => a.outcome === 'conn_reset' && resent.get(a.clientMsgId)?.outcome === 'repeat');
      const neverStored = unacknowledged.filter((a) => !isAcknowledged(resent.get(a.clientMsgId) ?? a));

      // Everything acknowledged, on the first try or a resend, is in its receiver's sync.
      const acked = [...firstTry.filter(isAcknowledged), ...[...resent.values()].filter(isAcknowledged)];
      const missing: string[] = [];
      for (const [i, pair] of pairs.entries()) {
        const want = acked.filter((a) => a.pair === i).map((a) => a.id!);
        if (want.length === 0) continue;
        const have = new Set(await syncIds(fresh.url, pair.receiver, ''));
        missing.push(...want.filter((id) => !have.has(id)));
      }

      // Both Chats' output, for what the figures do not say (the last run's only).
      const logDir = join(infraDir(), 'overload-logs');
      rmSync(logDir, { recursive: true, force: true });
      mkdirSync(logDir, { recursive: true });
      writeFileSync(join(logDir, 'chat-drained.log'), draining.output());
      writeFileSync(join(logDir, 'chat-restarted.log'), fresh.output());
      const log = draining.output();
      const logged500s = log.match(/a 500 is a bug/g)?.length ?? 0;
      const overran = /overran its grace period/.test(log);
      const phase = (from: number, to: number) => summarize(firstTry, from, to);
      const during = phase(termAt, exitedAt);
      const worst = Math.max(0, ...startedIn(firstTry, termAt - 5_000, loadEnd).map((a) => a.endedAt - a.startedAt));
      const firstOkAfter = firstTry.filter((a) => isAcknowledged(a) && a.startedAt >= exitedAt).reduce((m, a) => Math.min(m, a.endedAt), Infinity);
      console.log(
        [
          `drain: ${rate}/s (${DRAIN_FACTOR}× the sustainable ${sustainable ?? '(not measured: 300)'}/s) for 5 s, then SIGTERM; Chat exited ${exitCode} after ${ms(exitedAt - termAt)}, the new one ready ${ms(readyAt - exitedAt)} later`,
          `  requests before the signal: ${describeSummary(phase(termAt - 5_000, termAt))}`,
          `  started during the drain: ${describeSummary(during)}`,
          `  started while no Chat ran, and after: ${describeSummary(phase(exitedAt, loadEnd))}`,
          `  sends acknowledged again ${Number.isFinite(firstOkAfter) ? ms(firstOkAfter - termAt) : 'never'} after the signal; the slowest answer of the whole run ${ms(worst)}`,
          `  per second from the exit (201+200 / 503 / other, p99): ${perSecondOf(firstTry, exitedAt, loadEnd)}`,
          `  503 codes: ${JSON.stringify(Object.fromEntries([...new Set(firstTry.filter((a) => a.outcome === 'unavailable').map((a) => a.code))].map((c) => [c, firstTry.filter((a) => a.outcome === 'unavailable' && a.code === c).length])))}; ` +
            `slowest after the restart by outcome: ${JSON.stringify(Object.fromEntries(SEND_OUTCOMES.map((o) => [o, Math.max(0, ...startedIn(firstTry, exitedAt, loadEnd).filter((a) => a.outcome === o).map((a) => a.endedAt - a.startedAt))]).filter(([, v]) => (v as number) > 0)))}`,
          `  service logs: ${logDir}`,
          `  first tries: ${JSON.stringify(countOutcomes(firstTry))}; resent ${unacknowledged.length}: ${JSON.stringify(countOutcomes([...resent.values()]))}`,
          `  cut but stored (a reset whose resend was a repeat): ${cutButStored.length}; never stored after the resends: ${neverStored.length}; acknowledged but missing from sync: ${missing.length}`,
          `  "a 500 is a bug" in the drained Chat's log: ${logged500s}; overran its grace: ${overran}`,
        ].join('\n'),
      );

      const wrong = Object.fromEntries(
        Object.entries(countOutcomes(firstTry)).filter(([o, n]) => n > 0 && !(['created', 'repeat', 'unavailable', 'conn_refused', 'conn_reset'] as SendOutcome[]).includes(o as SendOutcome)),
      );
      assert.deepEqual(wrong, {}, 'every send got 201/200 or 503, or its connection was refused or closed (never a 500, a 4xx or a timeout)');
      assert.equal(logged500s, 0, 'no 500 in the drained Chat\'s log');
      assert.equal(overran, false, 'the drain finished within its grace period');
      assert.equal(exitCode, 0, 'the drained Chat exited 0');
      assert.deepEqual(cutButStored.map((a) => a.clientMsgId).slice(0, 5), [], 'no request was stored and then cut without an answer: running requests finish or get 503');
      assert.equal(neverStored.length, 0, 'every message was stored in the end (resent with its clientMsgId)');
      assert.deepEqual(missing.slice(0, 5), [], 'every acknowledged message is in its receiver\'s sync');
      assert.ok(during.count > 0, 'requests were sent while Chat drained');
    } finally {
      await load.stop();
      load.close();
    }
  });
});

/** Each second of [from, to): acknowledged / 503 / anything else, and p99. */
function perSecondOf(answers: readonly SendAnswer[], from: number, to: number): string {
  return Array.from({ length: Math.ceil((to - from) / 1000) }, (_, i) => {
    const w = summarize(answers, from + i * 1000, Math.min(to, from + (i + 1) * 1000));
    return `${w.outcomes.created + w.outcomes.repeat}/${w.outcomes.unavailable}/${w.count - w.outcomes.created - w.outcomes.repeat - w.outcomes.unavailable} p99 ${ms(w.p99)}`;
  }).join('; ');
}

/**
 * What Chat counted between two scrapes: its sends by status, how many it answered within 1 s
 * of its own time (from the request's first middleware, so the time a request waited in the
 * kernel or behind a busy event loop before Chat read it is not in it: the difference from what
 * clients measured is that wait), the admission's sheds by reason and the mean wait of the
 * admitted.
 */
function chatView(a: MetricsSnapshot | undefined, b: MetricsSnapshot | undefined): string {
  if (!a || !b) return 'no scrape';
  const d = (name: string, labels: Record<string, string> = {}) => (b.value(name, labels) || 0) - (a.value(name, labels) || 0);
  const sends = (status: string) => {
    const labels = { route: '/chat/send', status };
    const count = d('http_request_duration_seconds_count', labels);
    return `${status} ${count} (${d('http_request_duration_seconds_bucket', { ...labels, le: '0.25' })} within 250 ms, ${d('http_request_duration_seconds_bucket', { ...labels, le: '1' })} within 1 s, mean ${count ? ms((1000 * d('http_request_duration_seconds_sum', labels)) / count) : '-'})`;
  };
  const admitted = d('chat_admission_wait_seconds_count');
  return (
    `sends ${['201', '503', '500'].map(sends).join(', ')}; shed ${ADMISSION_SHED_REASONS.map((r) => `${r} ${d('chat_admission_shed_total', { reason: r })}`).join(', ')}; ` +
    `admitted ${admitted}, mean wait ${admitted ? ms((1000 * d('chat_admission_wait_seconds_sum')) / admitted) : '-'}`
  );
}

/** The highest in-flight, queued, event-loop lag and open descriptors Chat reported in [from, to]. */
function vitalsOf(snaps: readonly MetricsSnapshot[], from: number, to: number): string {
  const inWindow = snaps.filter((x) => x.at >= from && x.at <= to);
  const max = (name: string) => Math.max(0, ...inWindow.map((x) => x.value(name)).filter((v) => !Number.isNaN(v)));
  return `in flight ${max('chat_admission_in_flight')}, queued ${max('chat_admission_queued')}, event-loop lag ${ms(1000 * max('nodejs_eventloop_lag_max_seconds'))}, open fds ${max('process_open_fds')} (${inWindow.length} samples)`;
}
