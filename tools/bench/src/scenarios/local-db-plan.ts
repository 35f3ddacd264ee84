/**
 * The pure parts of scenario 8 (local database): the conversation mix both systems are seeded
 * with, the send-rate ramp's plan (coarse steps, then bisection between the last sustained rate
 * and the first that was not), the result's shape, and the five goals judged from it.
 */
import type { GoalResult } from '../goal.js';
import type { RampStep } from './send-run.js';
import type { FerretProfile } from '../ferretdb-profile.js';

// ---- The conversation mix ----------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so both systems and every run get the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ConversationPlan {
  users: number;
  /** Undirected conversations as [a, b] user indexes, a < b, each once. */
  pairs: Array<[number, number]>;
  /** Peers of each user (both directions). */
  peers: number[][];
}

/**
 * `users` users, each starting conversations with `peersPerUser / 2` others picked at random,
 * so a user ends up with about `peersPerUser` peers (its own picks plus those who picked it).
 */
export function conversationPlan(users: number, peersPerUser: number, seed = 8): ConversationPlan {
  if (users < 2) throw new Error('a conversation needs two users');
  const rnd = prng(seed);
  const picks = Math.max(1, Math.min(users - 1, Math.round(peersPerUser / 2)));
  const seen = new Set<string>();
  const pairs: Array<[number, number]> = [];
  const peers: number[][] = Array.from({ length: users }, () => []);
  for (let u = 0; u < users; u++) {
    let made = 0;
    for (let tries = 0; made < picks && tries < picks * 20; tries++) {
      const v = Math.floor(rnd() * users);
      if (v === u) continue;
      const [a, b] = u < v ? [u, v] : [v, u];
      const key = `${a}:${b}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push([a, b]);
      peers[a]!.push(b);
      peers[b]!.push(a);
      made++;
    }
  }
  return { users, pairs, peers };
}

/**
 * Message `i` of the seed: conversations in turn, so every one grows evenly, each turn the other
 * direction, with a text of a chat-like length (8 to 160 characters, most of them short).
 */
export function seedMessage(plan: ConversationPlan, i: number): { from: number; to: number; text: string } {
  const [a, b] = plan.pairs[i % plan.pairs.length]!;
  const turn = Math.floor(i / plan.pairs.length);
  const forward = (turn + i) % 2 === 0;
  const rnd = prng(i + 1);
  const length = 8 + Math.floor(rnd() * rnd() * 152);
  const words = 'ok see you at the station later then sounds good let me check and get back to you tonight'.split(' ');
  let text = `m${i}`;
  while (text.length < length) text += ' ' + words[Math.floor(rnd() * words.length)];
  return { from: forward ? a : b, to: forward ? b : a, text: text.slice(0, length) };
}

// ---- The ramp ----------------------------------------------------------------------------

/**
 * Which rate to try next: the coarse rates in order while they are sustained; after the first
 * that is not (tried twice, as a noisy machine can fail one step), `refineSteps` more steps at the
 * geometric middle of the last sustained and the first failed rate. Each system has its own plan.
 */
export class RampPlan {
  private idx = 0;
  private good: number | undefined;
  private bad: number | undefined;
  private refineLeft: number;
  private refining = false;
  private retry: number | undefined;
  private readonly retried = new Set<number>();
  finished = false;

  constructor(
    private readonly rates: number[],
    refineSteps: number,
    private readonly retryFailures = true,
  ) {
    this.refineLeft = refineSteps;
  }

  next(): number | undefined {
    if (this.finished) return undefined;
    if (this.retry !== undefined) return this.retry;
    if (!this.refining) {
      const r = this.rates[this.idx];
      if (r === undefined) this.finished = true;
      return r;
    }
    if (this.refineLeft <= 0 || this.good === undefined || this.bad === undefined) {
      this.finished = true;
      return undefined;
    }
    const mid = Math.round(Math.sqrt(this.good * this.bad));
    if (mid <= this.good || mid >= this.bad) {
      this.finished = true;
      return undefined;
    }
    return mid;
  }

  record(rate: number, sustainable: boolean): void {
    if (!sustainable && this.retryFailures && !this.retried.has(rate)) {
      this.retried.add(rate);
      this.retry = rate;
      return;
    }
    this.retry = undefined;
    if (sustainable) this.good = Math.max(this.good ?? 0, rate);
    else this.bad = Math.min(this.bad ?? Number.POSITIVE_INFINITY, rate);
    if (this.refining) this.refineLeft--;
    else if (sustainable) this.idx++;
    else if (this.good === undefined) this.finished = true; // not even the first rate held
    else this.refining = true;
  }
}

/** The highest rate actually achieved in a sustained step (0 when none was). */
export function sustainedRate(steps: Array<Pick<RampStep, 'sustainable' | 'okPerSec'>>): number {
  return Math.max(0, ...steps.filter((s) => s.sustainable).map((s) => s.okPerSec));
}

// ---- The result --------------------------------------------------------------------------

export interface ReadLatency {
  requests: number;
  errors: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface SystemRamp {
  steps: Array<RampStep & { retry?: boolean }>;
  sustainedRate: number;
}

export interface LocalDbResult {
  /** Messages each system should hold when measured (100,000; 5,000 in a quick run). */
  targetStored: number;
  users: number;
  peersPerUser: number;
  conversations: number;
  seed: {
    ours: { stored: number; seconds: number; perSec: number; concurrency: number; errors: Record<string, number>; budgetSeconds: number };
    origin: { stored: number; seconds: number; perSec: number; batch: number };
  };
  p99BoundMs: number;
  stepSeconds: number;
  ramp: { ours: SystemRamp; origin: SystemRamp };
  sync?: ReadLatency;
  history?: ReadLatency;
  /** The origin's GET /chat/history on its own data, for context (no goal). */
  originHistory?: ReadLatency;
  roundTrips: { sends?: number; mean?: number; maxLe?: number; notMeasured?: string };
  dbCpuAtRest: { cores?: number; byProcess?: Record<string, number>; roots?: number[]; pidSource?: string; waitedSeconds: number; windowSeconds: number; clientsCores?: Record<string, number>; notMeasured?: string };
  /** FerretDB's own profile of each of ours' send steps, by target rate (the last try of a rate). */
  databaseProfiles?: Record<number, FerretProfile | { unavailable: string }>;
  /** Causes of missed goals, from the profiles of this run (filled once chat and the origin stopped). */
  causes: Partial<Record<LocalDbGoalId, string>>;
  /** What stopped a part of the scenario early, if anything. */
  notes: string[];
  elapsedSeconds: number;
}

export type LocalDbGoalId = 'local-db-send-rate' | 'local-db-ratio' | 'local-db-reads-p99' | 'local-db-cpu-at-rest' | 'local-db-round-trips';

export const LOCAL_DB_TARGETS = { sendRate: 300, ratio: 1.5, readP99Ms: 20, cpuAtRestCores: 0.02, roundTrips: 3 } as const;

const n = (v: number) => Math.round(v).toLocaleString('en-US');

/**
 * The five goals of scenario 8. A figure measured with fewer messages stored than the target is
 * only conclusive when it misses (a bigger database does not make sends or reads faster); one that
 * passes there is "not measured" at the stated size, with the reason. The ratio needs both systems
 * at the stated size, as a bigger database may favour either.
 */
export function localDbGoals(r: LocalDbResult | undefined, skipped?: string): GoalResult[] {
  const T = LOCAL_DB_TARGETS;
  const goal = (id: LocalDbGoalId, what: string, target: string): GoalResult => ({ id, scenario: 8, what, target, value: '—', met: null, cause: skipped ?? 'not run' });
  const send = goal('local-db-send-rate', 'Local DB: sustained sends/s (p99 ≤ 50 ms)', `≥ ${T.sendRate}/s at ${n(r?.targetStored ?? 100_000)} stored`);
  const ratio = goal('local-db-ratio', 'Local DB: ours ÷ origin sustained rate', `≥ ${T.ratio}×`);
  const reads = goal('local-db-reads-p99', 'Local DB: sync and history p99', `≤ ${T.readP99Ms} ms at ${n(r?.targetStored ?? 100_000)} stored`);
  const cpu = goal('local-db-cpu-at-rest', 'Local DB: database server CPU at rest', '< 2% of a core');
  const trips = goal('local-db-round-trips', 'Local DB: database round trips per 1:1 send (201)', `≤ ${T.roundTrips}`);
  if (!r) return [send, ratio, reads, cpu, trips];

  const stored = r.seed.ours.stored;
  const atScale = stored >= r.targetStored;
  const short = `only ${n(stored)} of ${n(r.targetStored)} messages could be stored through POST /chat/send in the ${n(r.seed.ours.budgetSeconds)} s allowed (${r.seed.ours.perSec.toFixed(1)}/s), so this is not measured at the stated size`;
  const verdict = (passes: boolean, needsScale: 'miss-conclusive' | 'both'): boolean | null => (atScale ? passes : needsScale === 'miss-conclusive' && !passes ? false : null);
  const at = atScale ? '' : ` at ${n(stored)} stored`;

  const ours = r.ramp.ours.sustainedRate;
  const origin = r.ramp.origin.sustainedRate;
  const oursRan = r.ramp.ours.steps.length > 0;
  if (oursRan) {
    send.value = `${n(ours)}/s${at}`;
    send.met = verdict(ours >= T.sendRate, 'miss-conclusive');
    send.cause = send.met === false ? r.causes['local-db-send-rate'] : send.met === null ? short : undefined;
  } else send.cause = 'the ramp did not run (budget spent)';

  if (oursRan && r.ramp.origin.steps.length > 0) {
    const x = origin > 0 ? ours / origin : ours > 0 ? Number.POSITIVE_INFINITY : NaN;
    ratio.value = Number.isFinite(x) ? `${x.toFixed(2)}× (${n(ours)} vs ${n(origin)}/s${at})` : `— (ours ${n(ours)}/s, origin ${n(origin)}/s: neither sustained a step)`;
    ratio.met = Number.isNaN(x) ? null : verdict(x >= T.ratio, 'both');
    ratio.cause = ratio.met === false ? r.causes['local-db-ratio'] : ratio.met === null ? (Number.isNaN(x) ? 'neither system sustained the lowest step' : short) : undefined;
  } else ratio.cause = 'both ramps must run in the same run';

  if (r.sync && r.history) {
    const worst = Math.max(r.sync.p99Ms, r.history.p99Ms);
    reads.value = `sync ${r.sync.p99Ms.toFixed(1)} ms, history ${r.history.p99Ms.toFixed(1)} ms${at}`;
    reads.met = r.sync.errors + r.history.errors > 0 ? false : verdict(worst <= T.readP99Ms, 'miss-conclusive');
    reads.cause = reads.met === false ? (r.sync.errors + r.history.errors > 0 ? `${r.sync.errors} sync and ${r.history.errors} history requests failed. ` : '') + (r.causes['local-db-reads-p99'] ?? '') : reads.met === null ? short : undefined;
  } else reads.cause = 'not run (budget spent)';

  const c = r.dbCpuAtRest;
  if (c.cores !== undefined) {
    cpu.value = `${(c.cores * 100).toFixed(2)}% of a core`;
    cpu.met = c.cores < T.cpuAtRestCores;
    cpu.cause = cpu.met ? undefined : r.causes['local-db-cpu-at-rest'];
  } else cpu.cause = `not measured: ${c.notMeasured ?? 'not run'}`;

  const t = r.roundTrips;
  if (t.mean !== undefined && t.maxLe !== undefined) {
    trips.value = `mean ${t.mean.toFixed(2)}, max ≤ ${Number.isFinite(t.maxLe) ? t.maxLe : '+Inf'} over ${n(t.sends ?? 0)} sends`;
    trips.met = t.maxLe <= T.roundTrips;
    trips.cause = trips.met ? undefined : r.causes['local-db-round-trips'];
  } else trips.cause = `not measured: ${t.notMeasured ?? 'not run'}`;
  return [send, ratio, reads, cpu, trips];
}
