/**
 * Scenario 12's pure parts (no process, no socket): how every request of the overload run is
 * judged, phase by phase and second by second, the result's shape, and the goals. Issue 17 asks
 * that shedding never collapse throughput and that the system come back by itself: the overload
 * phase is judged on its goodput against the sustainable rate found in the same run and on every
 * answer arriving within 1 s (201 or a fast 503, never a timeout or another status); the phase
 * after the drop on how long until p99 is back under the sustainable bound with nothing shed.
 */
import type { GoalResult } from '../goal.js';
import type { SendRecord } from '../loadgen/protocol.js';
import type { RatePhase } from '../loadgen/schedule.js';
import { LatencyHistogram, round3 } from '../stats.js';
import type { CpuSnapshot } from './common.js';
import type { RampStep } from './send-run.js';

export interface OverloadConfig {
  /** The scenario's own budget from its start (setup, the ramp, the overload run, teardown). */
  budgetMs: number;
  users: number;
  peersPerUser: number;
  /** The ramp that finds the sustainable rate: scenario 8's plan (coarse rates, then bisection). */
  rampRates: number[];
  refineSteps: number;
  rampStepSeconds: number;
  /** The overload: `factor` × the sustainable rate for `overloadSeconds`, then `recoveryShare` × it for `recoverySeconds`. */
  factor: number;
  overloadSeconds: number;
  recoveryShare: number;
  recoverySeconds: number;
}

/** Issue 17's goals. */
export const OVERLOAD_TARGETS = {
  /** Goodput during the overload ÷ the sustainable rate: shedding must not collapse throughput. */
  goodputRatio: 0.9,
  /** Every answer during the overload within this (201 or 503). */
  answerBoundMs: 1_000,
  /** Share of the overload's requests answered so (1: every one). */
  answeredShare: 1,
  /** After the drop, p99 back under the sustainable bound and nothing shed within this. */
  recoverySeconds: 10,
} as const;

/** The client's timeout per request: the chaos test's senders give up after 5 s too. */
export const OVERLOAD_CLIENT_TIMEOUT_MS = 5_000;
/** Requests in flight at most: far above what answers within 1 s need at these rates, so the client never skips a send for the server. */
export const OVERLOAD_MAX_IN_FLIGHT = 4_096;
/**
 * The overload reaches Chat over this many kept-alive connections opened before it, as an
 * ingress reaches a pod (the system test tests/system/overload.integration.test.ts does the
 * same): several times what 3× the rate keeps in flight when answers take their usual time. A
 * connection per request in flight instead turns the overload into a storm of new connections,
 * which measured the kernel's accept queue on a saturated machine (answers of 1–10 s on new
 * connections only), not what Chat answers.
 */
export const OVERLOAD_CONNECTIONS = 512;
/** Resolution of the recovery time: the requests after the drop are judged per second sent. */
export const RECOVERY_BUCKET_MS = 1_000;

/** What one phase's requests got (by the time each was sent). */
export interface PhaseFigures {
  rate: number;
  seconds: number;
  attempted: number;
  /** 201s, and 201s per second answered within the phase's span (goodput). */
  ok: number;
  okPerSec: number;
  /** 503s: shed by the admission (or refused for an outage), the server's "not now". */
  shed: number;
  shedShare: number;
  /** Other statuses by code (`http_500` …), no answer (`no_answer`: a network error or the client's timeout) and sends the client skipped (`client_skipped`). */
  failed: Record<string, number>;
  /** 201s and 503s that arrived within OVERLOAD_TARGETS.answerBoundMs, and their share of `attempted`. */
  answeredWithinBound: number;
  answeredWithinShare: number;
  /** Latency of the 201s, and of the 503s (how fast a refusal is). */
  okP50Ms: number;
  okP99Ms: number;
  okMaxMs: number;
  shedP99Ms: number;
  shedMaxMs: number;
  /** The slowest answer of any kind (failures included), ms. */
  slowestMs: number;
}

/** One second of sends: what they got, and whether it meets the recovery bar. */
export interface SecondFigures {
  /** Seconds from the start of the run (by send time). */
  fromS: number;
  sent: number;
  ok: number;
  shed: number;
  failed: number;
  okP99Ms: number | null;
  /** p99 of the 201s ≤ the bound, at least one 201, nothing shed, nothing failed. */
  meets: boolean;
}

export interface OverloadResult {
  /** The ramp that found the sustainable rate (scenario 8's plan of scenario 4's steps). */
  ramp: { steps: Array<RampStep & { retry?: boolean }>; sustainedRate: number; p99BoundMs: number; stepSeconds: number };
  users: number;
  conversations: number;
  phases: RatePhase[];
  overload?: PhaseFigures;
  recovery?: PhaseFigures;
  /** Every second of the run, the overload's and then the recovery's. */
  seconds: SecondFigures[];
  /** From the drop until p99 ≤ the bound and nothing shed from then on, in whole seconds; null when the last second still missed. */
  recoverySeconds: number | null;
  goodputRatio?: number;
  /** Chat's own count of what its admission refused, by reason, over the run (from /metrics), when it exports one. */
  admissionShed?: Record<string, number>;
  /** Chat's mean and slowest-bucket admission wait of admitted requests over the run, when it exports one. */
  admissionWait?: { admitted: number; meanMs: number; maxLeMs: number };
  /** Chat's admission limits as it ran (its environment; empty: its defaults). */
  admissionEnv: Record<string, string>;
  /** Requests that got no answer, by the client's error (`timeout`: nothing for 5 s, connecting included; `ECONNRESET` …). */
  clientErrors?: Record<string, number>;
  /**
   * Connections the kernel dropped because a listener's accept queue was full, machine-wide,
   * over the overload run (TcpExt ListenOverflows): the client retries its SYN after 1 s, 3 s…,
   * so such a request cannot be answered within 1 s whatever the service does.
   */
  listenOverflows?: number;
  cpu?: { overload: CpuSnapshot; recovery: CpuSnapshot };
  notes: string[];
  elapsedSeconds: number;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h.percentile(p);
}

function failureKey(status: number): string {
  return status === -1 ? 'client_skipped' : status === 0 ? 'no_answer' : `http_${status}`;
}

/** The figures of the requests sent in [fromMs, toMs) at `rate`. */
export function phaseFigures(records: SendRecord[], fromMs: number, toMs: number, rate: number, answerBoundMs: number = OVERLOAD_TARGETS.answerBoundMs): PhaseFigures {
  const mine = records.filter(([start]) => start >= fromMs && start < toMs);
  const okLat: number[] = [];
  const shedLat: number[] = [];
  const failed: Record<string, number> = {};
  let within = 0;
  let answeredInSpan = 0;
  let slowest = 0;
  for (const [start, latency, status] of mine) {
    if (status !== -1) slowest = Math.max(slowest, latency);
    if (status === 201) {
      okLat.push(latency);
      if (start + latency < toMs) answeredInSpan++;
    } else if (status === 503) shedLat.push(latency);
    else failed[failureKey(status)] = (failed[failureKey(status)] ?? 0) + 1;
    if ((status === 201 || status === 503) && latency <= answerBoundMs) within++;
  }
  // Goodput: 201s answered within the phase's span, per second of it, plus those of the phase
  // before that landed in it (a phase is judged on what the server did while it ran).
  const carried = records.filter(([start, latency, status]) => status === 201 && start < fromMs && start + latency >= fromMs && start + latency < toMs).length;
  const seconds = (toMs - fromMs) / 1000;
  return {
    rate,
    seconds,
    attempted: mine.length,
    ok: okLat.length,
    okPerSec: round3((answeredInSpan + carried) / seconds),
    shed: shedLat.length,
    shedShare: mine.length ? round3(shedLat.length / mine.length) : 0,
    failed,
    answeredWithinBound: within,
    answeredWithinShare: mine.length ? within / mine.length : 0,
    okP50Ms: round3(percentile(okLat, 50)),
    okP99Ms: round3(percentile(okLat, 99)),
    okMaxMs: round3(okLat.length ? Math.max(...okLat) : NaN),
    shedP99Ms: round3(percentile(shedLat, 99)),
    shedMaxMs: round3(shedLat.length ? Math.max(...shedLat) : NaN),
    slowestMs: round3(slowest),
  };
}

/** Second by second over [0, totalMs), each judged against the recovery bar. */
export function perSecond(records: SendRecord[], totalMs: number, p99BoundMs: number, bucketMs: number = RECOVERY_BUCKET_MS): SecondFigures[] {
  const n = Math.ceil(totalMs / bucketMs);
  const out: SecondFigures[] = [];
  const buckets: SendRecord[][] = Array.from({ length: n }, () => []);
  for (const r of records) {
    const i = Math.floor(r[0] / bucketMs);
    if (i >= 0 && i < n) buckets[i]!.push(r);
  }
  for (const [i, b] of buckets.entries()) {
    const ok = b.filter((r) => r[2] === 201).map((r) => r[1]);
    const shed = b.filter((r) => r[2] === 503).length;
    const failed = b.length - ok.length - shed;
    const p99 = ok.length ? round3(percentile(ok, 99)) : null;
    out.push({ fromS: round3((i * bucketMs) / 1000), sent: b.length, ok: ok.length, shed, failed, okP99Ms: p99, meets: p99 !== null && p99 <= p99BoundMs && shed === 0 && failed === 0 });
  }
  return out;
}

/**
 * Seconds from the drop until every later second meets the bar (the end of the last second that
 * missed it; 0 when none did); null when the last second of the run still missed it, i.e. the
 * system had not come back within the recovery phase.
 */
export function recoveryTime(seconds: SecondFigures[], dropS: number): number | null {
  const after = seconds.filter((s) => s.fromS >= dropS);
  if (!after.length) return null;
  if (!after.at(-1)!.meets) return null;
  let lastMiss = -1;
  for (const [i, s] of after.entries()) if (!s.meets) lastMiss = i;
  return lastMiss < 0 ? 0 : round3(after[lastMiss + 1]!.fromS - dropS);
}

/** The phases of the overload run for a sustainable rate (whole requests per second, at least 1). */
export function overloadPhases(sustainable: number, cfg: Pick<OverloadConfig, 'factor' | 'overloadSeconds' | 'recoveryShare' | 'recoverySeconds'>): RatePhase[] {
  return [
    { rate: Math.max(1, Math.round(sustainable * cfg.factor)), durationMs: cfg.overloadSeconds * 1000 },
    { rate: Math.max(1, Math.round(sustainable * cfg.recoveryShare)), durationMs: cfg.recoverySeconds * 1000 },
  ];
}

/** Judges a finished overload run: both phases, every second, the recovery time and the goodput ratio. */
export function judgeRun(r: OverloadResult, records: SendRecord[]): void {
  const [over, rec] = r.phases;
  if (!over || !rec) return;
  r.overload = phaseFigures(records, 0, over.durationMs, over.rate);
  r.recovery = phaseFigures(records, over.durationMs, over.durationMs + rec.durationMs, rec.rate);
  r.seconds = perSecond(records, over.durationMs + rec.durationMs, r.ramp.p99BoundMs);
  r.recoverySeconds = recoveryTime(r.seconds, over.durationMs / 1000);
  r.goodputRatio = r.ramp.sustainedRate > 0 ? round3(r.overload.okPerSec / r.ramp.sustainedRate) : undefined;
}

export type OverloadGoalId = 'overload-goodput' | 'overload-answered' | 'overload-recovery' | 'overload-p99' | 'overload-shed';

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const msText = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms` : '—');

/** What went wrong besides 201 and 503, in words. */
function failuresText(f: Record<string, number>): string {
  const parts = Object.entries(f).map(([k, v]) => `${n(v)} × ${k === 'no_answer' ? 'no answer (timeout or network error)' : k === 'client_skipped' ? 'skipped at the client’s in-flight cap' : k.replace('http_', 'HTTP ')}`);
  return parts.length ? parts.join(', ') : 'nothing else';
}

/** The CPU line of a phase, for the cause of a miss. */
function cpuText(c: CpuSnapshot | undefined): string {
  if (!c) return '';
  const o = c.others;
  return ` CPU over the overload: chat ${o.chat?.toFixed(2) ?? '—'}, database server ${o.database?.toFixed(2) ?? '—'}, auth ${o.auth?.toFixed(2) ?? '—'}, broker ${c.broker.toFixed(2)}, loadgen ${(c.loadgenSource + c.loadgenReceivers).toFixed(2)}, whole machine ${c.machine.toFixed(2)} cores.`;
}

/**
 * Scenario 12's goals: goodput ratio (≥ 0.9×), answers within 1 s (100 %), recovery (≤ 10 s), and
 * two figures without a target: the 201s' p99 and the shed share during the overload.
 */
export function overloadGoals(r: OverloadResult | undefined, skipped?: string): GoalResult[] {
  const T = OVERLOAD_TARGETS;
  const goal = (id: OverloadGoalId, what: string, target: string): GoalResult => ({ id, scenario: 12, what, target, value: '—', met: null, cause: skipped ?? 'not run' });
  const factor = r?.phases[0] && r.ramp.sustainedRate > 0 ? `${(r.phases[0].rate / r.ramp.sustainedRate).toFixed(1).replace(/\.0$/, '')}×` : '3×';
  const goodput = goal('overload-goodput', `Overload: 201s/s at ${factor} the sustainable rate ÷ the sustainable rate`, `≥ ${T.goodputRatio}×`);
  const answered = goal('overload-answered', `Overload: answers within ${T.answerBoundMs / 1000} s at ${factor} (201 or 503)`, '100 %');
  const recovery = goal('overload-recovery', `Overload: after the drop to ½×, until p99 ≤ ${r?.ramp.p99BoundMs ?? 100} ms and nothing shed`, `≤ ${T.recoverySeconds} s`);
  const p99 = goal('overload-p99', `Overload: 201 latency at ${factor}`, 'reported (no target)');
  const shed = goal('overload-shed', `Overload: share shed (503) at ${factor}`, 'reported (no target)');
  const all = [goodput, answered, recovery, p99, shed];
  if (!r) return all;
  if (r.ramp.sustainedRate <= 0) {
    for (const g of all) g.cause = r.ramp.steps.length ? `no ramp step was sustained (the first, ${r.ramp.steps[0]!.targetRate}/s, was not), so there is no rate to overload` : (r.notes[0] ?? 'the ramp did not run');
    return all;
  }
  const o = r.overload;
  const c = r.recovery;
  if (!o || !c) {
    for (const g of all) g.cause = r.notes.join('; ') || 'the overload run did not complete';
    return all;
  }
  const cpu = cpuText(r.cpu?.overload);
  const sheds = r.admissionShed ? ` Chat's admission refused ${Object.entries(r.admissionShed).map(([k, v]) => `${n(v)} for ${k}`).join(', ') || 'nothing'} (chat_admission_shed_total over the run).` : ' Chat exports no chat_admission_shed_total: it has no admission control.';

  goodput.value = `${r.goodputRatio!.toFixed(2)}× (${n(o.okPerSec)} vs ${n(r.ramp.sustainedRate)}/s, offered ${n(o.rate)}/s)`;
  goodput.met = r.goodputRatio! >= T.goodputRatio;
  goodput.cause = goodput.met ? undefined : `during the overload chat answered ${n(o.ok)} × 201 and ${n(o.shed)} × 503 of ${n(o.attempted)} (${failuresText(o.failed)}); 201 p99 ${msText(o.okP99Ms)}.${sheds}${cpu}`;

  answered.value = `${pct(o.answeredWithinShare)} (${n(o.answeredWithinBound)} of ${n(o.attempted)}; slowest ${msText(o.slowestMs)}; besides 201 and 503: ${failuresText(o.failed)})`;
  answered.met = o.answeredWithinShare >= T.answeredShare;
  const noAnswer = r.clientErrors ? ` The requests without an answer failed with ${Object.entries(r.clientErrors).map(([k, v]) => `${n(v)} × ${k}`).join(', ')} at the client (whole run).` : '';
  const overflows = r.listenOverflows !== undefined ? ` The kernel dropped ${n(r.listenOverflows)} connections at a full accept queue meanwhile (TcpExt ListenOverflows, machine-wide): each is a SYN the client retries after 1 s, 3 s, 7 s.` : '';
  answered.cause = answered.met ? undefined : `${n(o.attempted - o.answeredWithinBound)} requests got no 201 or 503 within ${T.answerBoundMs / 1000} s: 201 max ${msText(o.okMaxMs)}, 503 max ${msText(o.shedMaxMs)}, ${failuresText(o.failed)}.${noAnswer}${overflows}${sheds}${cpu}`;

  const after = r.seconds.filter((s) => s.fromS >= r.phases[0]!.durationMs / 1000);
  const last = after.at(-1);
  recovery.value =
    r.recoverySeconds === null
      ? `not within ${c.seconds} s (the last second: 201 p99 ${last?.okP99Ms !== null && last ? msText(last.okP99Ms) : '—'}, ${last?.shed ?? 0} shed, ${last?.failed ?? 0} failed)`
      : `${r.recoverySeconds} s (seconds after the drop missing the bar: ${after.filter((s) => !s.meets).length} of ${after.length}; ${n(c.rate)}/s offered)`;
  recovery.met = r.recoverySeconds !== null && r.recoverySeconds <= T.recoverySeconds;
  recovery.cause = recovery.met
    ? undefined
    : `after the drop to ${n(c.rate)}/s: ${n(c.ok)} × 201 (p99 ${msText(c.okP99Ms)}), ${n(c.shed)} × 503, ${failuresText(c.failed)}; per second (201 p99 / shed): ${after.map((s) => `${s.okP99Ms === null ? '—' : Math.round(s.okP99Ms)}/${s.shed}`).join(', ')}.${cpuText(r.cpu?.recovery).replace('over the overload', 'after the drop')}`;

  p99.value = `p99 ${msText(o.okP99Ms)}, p50 ${msText(o.okP50Ms)}, max ${msText(o.okMaxMs)} (503s: p99 ${msText(o.shedP99Ms)})`;
  p99.cause = undefined;
  p99.label = 'figure';
  shed.value = `${pct(o.shedShare)} (${n(o.shed)} of ${n(o.attempted)})${r.admissionShed ? `; by chat's reason: ${Object.entries(r.admissionShed).map(([k, v]) => `${k} ${n(v)}`).join(', ')}` : ''}`;
  shed.cause = undefined;
  shed.label = 'figure';
  return all;
}
