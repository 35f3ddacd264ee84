/**
 * Scenario 3 (and its `ws` half in scenario 6): events injected straight into `chat.events` at
 * increasing rates, delivered by one gateway to sockets held by the load generator. Each event
 * goes from a sender with no socket to one of the users, so it becomes one frame on each of
 * that user's sockets. A step passes when every frame arrived and p99 event→socket latency
 * (publish time in the event → frame received) stayed under the bound.
 */
import { EVENTS_EXCHANGE } from '@chat/common/contracts';
import type { LoadGen } from '../loadgen/pool.js';
import type { InjectResult } from '../loadgen/protocol.js';
import { ProgressLine } from '../progress.js';
import { round3 } from '../stats.js';
import type { Proc } from '../stack.js';
import { loadgenLimited, pollStats, roundCpu, rssMiB, waitQuiet, WindowMeters } from './common.js';
import { machineBound as isMachineBound } from './gateway-cpu-plan.js';
import type { DeliveryResult, DeliveryStep } from './delivery-result.js';

export const DELIVERY_P99_BOUND_MS = 50;

export type { DeliveryResult, DeliveryStep } from './delivery-result.js';

export interface DeliveryOptions {
  lg: LoadGen;
  gateway: Proc;
  amqpUrl: string;
  /** [from, to] username pairs; `to` users each hold `framesPerEvent` sockets. */
  pairs: Array<[string, string]>;
  /** Username → id of the pairs' users: events then carry cursors, as Chat publishes them (InjectCommand.ids). */
  ids?: Record<string, string>;
  users: number;
  framesPerEvent: number;
  rates: number[];
  stepMs: number;
  label: string;
  /** Stop stepping at this time (performance.now()), whatever else. */
  deadline: number;
  /** Time allowed for the steps, counted after the warm-up. */
  rampBudgetMs?: number;
  /**
   * What makes the events of a step (default: the load generator's injector into the broker's
   * `chat.events`); scenario 11 hands its raw push servers' `POST /push` here.
   */
  inject?: (rate: number, durationMs: number) => Promise<InjectResult>;
}

/** One injection step at a fixed rate. */
export async function deliveryStep(o: DeliveryOptions, rate: number, meterPids: number[] = [o.gateway.pid], progressLabel = o.label): Promise<DeliveryStep> {
  const { lg } = o;
  await lg.window();
  const meters = new WindowMeters(meterPids, lg);
  const progress = new ProgressLine(`${progressLabel} @${rate}/s`);
  const t0 = performance.now();
  let rssPeak = 0;
  const ticker = setInterval(() => {
    void lg.stats().then((s) => {
      const secs = (performance.now() - t0) / 1000;
      rssPeak = Math.max(rssPeak, rssMiB(o.gateway.pid));
      progress.update({ rate: s.frames / o.framesPerEvent / secs, connections: s.open, p99Ms: s.latency.percentile(99) });
    });
  }, 500);
  let inj;
  try {
    inj = o.inject ? await o.inject(rate, o.stepMs) : await lg.inject({ amqpUrl: o.amqpUrl, exchange: EVENTS_EXCHANGE, rate, durationMs: o.stepMs, pairs: o.pairs, ids: o.ids });
  } finally {
    clearInterval(ticker);
  }
  const expected = inj.sent * o.framesPerEvent;
  // In-flight frames get a bounded grace: anything later than this is far past the latency bound anyway.
  const s = await pollStats(lg, (x) => x.frames >= expected, 2_000);
  const { cpu, window } = meters.read();
  progress.done();
  const injectSecs = inj.elapsedMs / 1000;
  const p99 = s.latency.percentile(99);
  rssPeak = Math.max(rssPeak, rssMiB(o.gateway.pid));
  return {
    targetRate: rate,
    injected: inj.sent,
    injectedPerSec: round3(inj.sent / injectSecs),
    injectorLimited: inj.sent < 0.95 * rate * injectSecs,
    frames: s.frames,
    expectedFrames: expected,
    deliveredPerSec: round3(Math.min(s.frames, expected) / o.framesPerEvent / injectSecs),
    framesPerSec: round3(s.frames / injectSecs),
    p50Ms: round3(s.latency.percentile(50)),
    p99Ms: round3(p99),
    maxMs: round3(s.latency.max),
    closedByServer: s.closedByServer,
    cpu: roundCpu(cpu),
    gatewayRssMiB: round3(rssPeak),
    loadgenLimited: loadgenLimited(cpu),
    pass: s.frames >= expected && p99 < DELIVERY_P99_BOUND_MS && s.closedByServer === 0,
    window,
  };
}


/**
 * Sends one event to every user so the gateway's user cache is warm before anything is timed.
 * Closed loop, in small batches: each batch waits for its frames, so the cold lookups to Auth
 * never pile up past its lookup timeout. Returns how long it took and the events it lost.
 */
export async function warmUp(o: Pick<DeliveryOptions, 'lg' | 'amqpUrl' | 'pairs' | 'ids' | 'framesPerEvent'>, batch = 50, label = 'warm-up'): Promise<{ elapsedMs: number; lostEvents: number; passes: number }> {
  const t0 = performance.now();
  const progress = new ProgressLine(`${label} (user cache)`);
  let lostFirst = 0;
  let passes = 0;
  // A lookup that timed out is not cached; another pass (cheap for cached users) catches it.
  for (let pass = 0; pass < 3; pass++) {
    passes++;
    let lost = 0;
    for (let i = 0; i < o.pairs.length; i += batch) {
      const pairs = o.pairs.slice(i, i + batch);
      await o.lg.window();
      const inj = await o.lg.inject({ amqpUrl: o.amqpUrl, exchange: EVENTS_EXCHANGE, rate: 5_000, durationMs: 10_000, count: pairs.length, pairs, ids: o.ids });
      const s = await pollStats(o.lg, (x) => x.frames >= inj.sent * o.framesPerEvent, 10_000, 20);
      lost += Math.max(0, inj.sent - Math.floor(s.frames / o.framesPerEvent));
      if (process.env.BENCH_DEBUG && s.frames < inj.sent * o.framesPerEvent)
        console.log(`  [debug] ${label} batch ${i}: ${s.frames}/${inj.sent * o.framesPerEvent} frames after ${((performance.now() - t0) / 1000).toFixed(1)} s, open ${s.open}, closed ${s.closedByServer} ${JSON.stringify(s.closeCodes)}, other frames ${s.otherFrames}`);
      progress.update({ rate: (i + pairs.length) / ((performance.now() - t0) / 1000), extra: `pass ${pass + 1}: ${i + pairs.length}/${o.pairs.length} users` });
    }
    if (pass === 0) lostFirst = lost;
    await waitQuiet(o.lg, 500, 5_000);
    if (lost === 0) break;
  }
  progress.done();
  return { elapsedMs: performance.now() - t0, lostEvents: lostFirst, passes };
}

export async function deliveryRamp(o: DeliveryOptions): Promise<DeliveryResult> {
  const warm = await warmUp(o, 50, `${o.label} warm-up`);
  console.log(`  ${o.label} warm-up: ${o.pairs.length} users resolved in ${(warm.elapsedMs / 1000).toFixed(1)} s (${warm.passes} pass(es); ${warm.lostEvents} events of the first pass lost to lookup timeouts)`);
  const steps: DeliveryStep[] = [];
  let error: string | undefined;
  const deadline = Math.min(o.deadline, performance.now() + (o.rampBudgetMs ?? Number.POSITIVE_INFINITY));
  for (const rate of o.rates) {
    if (performance.now() + o.stepMs + 3_000 > deadline) break;
    let step: DeliveryStep;
    try {
      step = await deliveryStep(o, rate);
    } catch (err) {
      // E.g. the broker restarted under the injector: keep the steps measured so far.
      error = `step ${rate}/s: ${(err as Error).message}`;
      console.log(`  ${o.label} ${error}`);
      break;
    }
    if (!step.pass) {
      // One transient stall (another process on these 2 cores, a broker GC) can fail a step whose
      // rate the gateway sustains; a failing step is run once more and both tries are recorded.
      await waitQuiet(o.lg, 1_000, 30_000);
      const first = step;
      try {
        step = await deliveryStep(o, rate);
      } catch (err) {
        error = `step ${rate}/s (second try): ${(err as Error).message}`;
        console.log(`  ${o.label} ${error}`);
        steps.push(first);
        break;
      }
      step.firstTry = { p99Ms: first.p99Ms, maxMs: first.maxMs, frames: first.frames, expectedFrames: first.expectedFrames };
    }
    steps.push(step);
    const verdict = step.pass ? 'pass' : 'FAIL';
    console.log(
      `  ${o.label} ${rate}/s: delivered ${step.deliveredPerSec}/s, p99 ${step.p99Ms} ms, frames ${step.frames}/${step.expectedFrames}, ` +
        `cpu gw ${step.cpu.gateway} loadgen ${round3(step.cpu.loadgenReceivers + step.cpu.loadgenSource)} broker ${step.cpu.broker} → ${verdict}${step.loadgenLimited ? ' (loadgen-limited)' : ''}` +
        (step.firstTry ? ` (second try; first: p99 ${step.firstTry.p99Ms} ms, frames ${step.firstTry.frames}/${step.firstTry.expectedFrames})` : ''),
    );
    // Whatever backlog a failed step left must drain before the next measurement.
    await waitQuiet(o.lg, 1_000, 30_000);
    if (!step.pass) break;
  }
  const passing = steps.filter((s) => s.pass);
  const best = passing.length ? passing.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a)) : undefined;
  return {
    gateway: o.label,
    sockets: 0,
    users: o.users,
    framesPerEvent: o.framesPerEvent,
    stepSeconds: o.stepMs / 1000,
    steps,
    bestRate: best?.deliveredPerSec ?? 0,
    best,
    firstFail: steps.find((s) => !s.pass),
    warmUp: { elapsedMs: Math.round(warm.elapsedMs), lostEvents: warm.lostEvents, passes: warm.passes },
    ...(error ? { error } : {}),
  };
}

/** One line on why ours did not reach 1.3× the ws reference, from both ramps' failing steps. */
export function throughputRatioCause(d: DeliveryResult, w: DeliveryResult, cores = 2): string {
  const a = d.firstFail ?? d.best;
  const b = w.firstFail ?? w.best;
  const limited = [a, b].some((s) => s?.loadgenLimited);
  const machineBound = isMachineBound([a, b], cores);
  return (
    `${limited ? '**loadgen-limited**: the ws client load generator saturated before either server; ' : ''}` +
    `ours failed at ${a?.targetRate ?? '—'}/s (gateway ${a?.cpu.gateway.toFixed(2)} cores, whole machine ${a?.cpu.machine.toFixed(2)}), ws at ${b?.targetRate ?? '—'}/s (gateway ${b?.cpu.gateway.toFixed(2)} cores, whole machine ${b?.cpu.machine.toFixed(2)})` +
    (machineBound ? ': **machine-bound**, neither gateway saturated its core while the whole machine was busy (≥ 1.9 of 2 cores), so this run cannot separate the two servers (no verdict; scenario 11 compares their CPU per frame instead)' : '') +
    '; see both profiles below'
  );
}
