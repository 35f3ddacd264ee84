/**
 * Scenario 4, end to end: `POST /chat/send` → MongoDB → outbox → RabbitMQ → gateway → socket,
 * open loop at a fixed rate while every socket stays open. Each message goes between two users
 * who both hold sockets, so it becomes a frame on each device of the recipient and of the
 * sender. The 201→frame latency joins the time each 201 arrived (sender child) with the time
 * each frame arrived (receiver children) by a key carried in the text; all processes read the
 * same machine clock.
 *
 * Then a ramp finds the highest sustainable send rate, and the Chat process's CPU profile over
 * the saturating step tells which stage limits it.
 */
import { randomBytes } from 'node:crypto';
import type { LoadGen } from '../loadgen/pool.js';
import type { SendResult } from '../loadgen/protocol.js';
import { ProgressLine } from '../progress.js';
import type { TimeWindow } from '../profile.js';
import { LatencyHistogram, round3, type HistogramSnapshot } from '../stats.js';
import type { Proc } from '../stack.js';
import { loadgenLimited, waitCpuQuiet, waitQuiet, roundCpu, WindowMeters, type CpuSnapshot } from './common.js';
import { sustainedRate, type RampPlan } from './local-db-plan.js';
import type { RampStep, SendRun } from './send-run.js';

export type { RampStep, SendRun };

export interface E2EResult extends SendRun {
  framesPerMessage: number;
  frames: number;
  expectedFrames: number;
  /** 201 → frame, over every frame of every acknowledged message. */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Frames that arrived before their 201 (the socket beat the HTTP response); counted as 0 ms. */
  framesBefore201: number;
}


export interface SendOptions {
  lg: LoadGen;
  /** The process that answers POST /chat/send (ours, or the origin of scenario 8). */
  chat: Proc;
  /** The gateway whose CPU is metered over each window; none when no socket is open (scenario 8). */
  gateway?: Proc;
  /** Sender token and recipient username. */
  pairs: Array<{ token: string; to: string }>;
  /** Other processes whose CPU is worth showing (auth, database). */
  extras: Record<string, number[]>;
  maxInFlight: number;
}

async function timedSend(o: SendOptions, rate: number, seconds: number, tag: string, label: string): Promise<{ res: SendResult; cpu: CpuSnapshot; window: TimeWindow }> {
  const meters = new WindowMeters(o.gateway ? [o.gateway.pid] : [], o.lg, { chat: [o.chat.pid], ...o.extras });
  const progress = new ProgressLine(label);
  const t0 = performance.now();
  const ticker = setInterval(() => {
    void o.lg.stats().then((s) => {
      const sent = o.lg.sourceWorker().progress.sent ?? 0;
      const rate = sent / ((performance.now() - t0) / 1000);
      // With no socket open (scenario 8) there is no frame to time: the rate alone.
      progress.update(o.gateway ? { rate, connections: s.open, p99Ms: s.latency.percentile(99), extra: 'p99 here: createdAt→frame' } : { rate, extra: '201s so far' });
    });
  }, 500);
  try {
    const res = await o.lg.send({ chatUrl: o.chat.url, rate, durationMs: seconds * 1000, pairs: o.pairs, maxInFlight: o.maxInFlight, tag });
    const { cpu, window } = meters.read();
    return { res, cpu, window };
  } finally {
    clearInterval(ticker);
    progress.done();
  }
}

function summarize(rate: number, seconds: number, res: SendResult, cpu: CpuSnapshot, window: TimeWindow): SendRun {
  const h = LatencyHistogram.from([res.sendLatency]);
  return {
    targetRate: rate,
    seconds,
    attempted: res.attempted,
    ok: res.ok,
    okPerSec: round3(res.ok / (res.elapsedMs / 1000)),
    errors: res.errors,
    skipped: res.skipped,
    sendP50Ms: round3(h.percentile(50)),
    sendP99Ms: round3(h.percentile(99)),
    sendMaxMs: round3(h.max),
    cpu: roundCpu(cpu),
    loadgenLimited: loadgenLimited(cpu),
    window,
  };
}

export async function endToEnd(o: SendOptions & { rate: number; seconds: number; framesPerMessage: number }): Promise<E2EResult> {
  return (await endToEndWindow(o)).result;
}

/** One end-to-end window, with its histograms (201→frame, send) for windows to be merged (scenario 10). */
export async function endToEndWindow(o: SendOptions & { rate: number; seconds: number; framesPerMessage: number; label?: string }): Promise<{ result: E2EResult; latency: HistogramSnapshot; sendLatency: HistogramSnapshot; elapsedMs: number }> {
  const tag = `e${randomBytes(3).toString('hex')}`;
  o.lg.sourceWorker().progress.sent = 0;
  await o.lg.e2e(tag);
  await o.lg.window();
  const { res, cpu, window } = await timedSend(o, o.rate, o.seconds, tag, o.label ?? `e2e @${o.rate}/s`);
  await waitQuiet(o.lg, 1_000, 10_000);
  const frames = await o.lg.e2eDrain();
  await o.lg.e2e(null);
  const acked = new Map(res.acked);
  const h = new LatencyHistogram();
  let before = 0;
  let matched = 0;
  for (const [key, at] of frames) {
    const t201 = acked.get(key);
    if (t201 === undefined) continue; // a frame for a send that got no 201 (error or timeout)
    matched++;
    if (at < t201) before++;
    h.record(at - t201);
  }
  const run = summarize(o.rate, o.seconds, res, cpu, window);
  const result: E2EResult = {
    ...run,
    framesPerMessage: o.framesPerMessage,
    frames: matched,
    expectedFrames: res.ok * o.framesPerMessage,
    p50Ms: round3(h.percentile(50)),
    p99Ms: round3(h.percentile(99)),
    p999Ms: round3(h.percentile(99.9)),
    maxMs: round3(h.max),
    framesBefore201: before,
  };
  return { result, latency: h.snapshot(), sendLatency: res.sendLatency, elapsedMs: res.elapsedMs };
}

/** A step is sustainable when it kept the schedule with no error, nothing shed, and p99 send latency under the bound. */
export const SUSTAINABLE_SEND_P99_MS = 100;

/** Whether a send step counts as sustained at `p99BoundMs`: no error, nothing shed, ≥ 95 % of the target rate, p99 within the bound. */
export function isSustainable(run: Pick<SendRun, 'targetRate' | 'errors' | 'skipped' | 'okPerSec' | 'sendP99Ms'>, p99BoundMs: number): boolean {
  const errors = Object.values(run.errors).reduce((a, b) => a + b, 0);
  return errors === 0 && run.skipped === 0 && run.okPerSec >= 0.95 * run.targetRate && run.sendP99Ms <= p99BoundMs;
}

/**
 * One open-loop step at `rate` for `seconds`, judged against `p99BoundMs`, then a wait until the
 * backlog drained and chat (and the database server) went quiet, so the next step starts clean.
 */
export async function sendStep(o: SendOptions & { p99BoundMs?: number; label?: string }, rate: number, seconds: number, deadline: number): Promise<RampStep> {
  o.lg.sourceWorker().progress.sent = 0;
  await o.lg.window();
  const { res, cpu, window } = await timedSend(o, rate, seconds, `r${randomBytes(3).toString('hex')}`, `${o.label ?? 'send ramp'} @${rate}/s`);
  const run = summarize(rate, seconds, res, cpu, window);
  const sustainable = isSustainable(run, o.p99BoundMs ?? SUSTAINABLE_SEND_P99_MS);
  const errors = Object.values(run.errors).reduce((a, b) => a + b, 0);
  console.log(
    `  ${o.label ? `${o.label}: ` : ''}send ${rate}/s: ${run.okPerSec}/s ok, p99 ${run.sendP99Ms} ms, errors ${errors}, shed ${run.skipped}; ` +
      `cpu ${o.chat.name} ${run.cpu.others.chat}${o.gateway ? ` gw ${run.cpu.gateway}` : ''} ${Object.entries(run.cpu.others).filter(([k]) => k !== 'chat').map(([k, v]) => `${k} ${v}`).join(' ')} broker ${run.cpu.broker} loadgen ${round3(run.cpu.loadgenSource + run.cpu.loadgenReceivers)} → ${sustainable ? 'sustainable' : 'NOT sustainable'}`,
  );
  await waitQuiet(o.lg, 1_000, 20_000);
  await waitCpuQuiet([o.chat.pid, ...(o.extras.database ?? [])], 0.3, Math.max(0, Math.min(30_000, deadline - performance.now())));
  return { ...run, sustainable };
}

export async function sendRamp(o: SendOptions & { rates: number[]; seconds: number; deadline: number; p99BoundMs?: number }): Promise<RampStep[]> {
  const steps: RampStep[] = [];
  for (const rate of o.rates) {
    if (performance.now() + o.seconds * 1000 + 5_000 > o.deadline) break;
    const step = await sendStep(o, rate, o.seconds, o.deadline);
    steps.push(step);
    if (!step.sustainable) break;
  }
  return steps;
}

/**
 * One system's ramp on scenario 8's plan (coarse rates while they hold, a failed rate tried once
 * more, then bisection between the last sustained and the first failed rate), each step a
 * `sendStep`: the sustainable rate of scenario 12 (overload), found the way scenario 8 finds ours.
 */
export async function plannedRamp(o: SendOptions & { plan: RampPlan; seconds: number; deadline: number; p99BoundMs?: number; label?: string }): Promise<{ steps: Array<RampStep & { retry?: boolean }>; sustainedRate: number }> {
  const steps: Array<RampStep & { retry?: boolean }> = [];
  for (let rate = o.plan.next(); rate !== undefined; rate = o.plan.next()) {
    if (performance.now() + o.seconds * 1000 + 5_000 > o.deadline) break;
    const step = await sendStep(o, rate, o.seconds, o.deadline);
    steps.push({ ...step, ...(steps.some((s) => s.targetRate === rate) ? { retry: true } : {}) });
    o.plan.record(rate, step.sustainable);
  }
  return { steps, sustainedRate: sustainedRate(steps) };
}
