/**
 * Scenario 10's pure parts (no process, no socket): who types to whom, the typing and reconnect
 * schedules the load generator follows, the order of the on/off windows, the result's shape and
 * the issue-14 goal (delivery with the typing/presence layer on ≥ 0.9× without, in the same run).
 * Kept apart from signals.ts so they are unit-tested without a stack.
 */
import { directConversationId } from '@chat/common/contracts';
import type { GoalResult } from '../goal.js';
import type { TimeWindow } from '../profile.js';
import { round3 } from '../stats.js';
import type { CpuSnapshot } from './common.js';
import type { DeliveryStep } from './delivery-result.js';

export { dueSlots } from '../loadgen/schedule.js';

/** Delivery with the layer on must keep at least this share of delivery without it. */
export const LAYER_RATIO_GOAL = 0.9;

export type LayerMode = 'off' | 'on';

export interface SignalsConfig {
  /** The scenario's own budget from its start. */
  budgetMs: number;
  /** Injected event rates (scenario 3's), each run once per mode; a full run rescales them around scenario 3's best. */
  rates: number[];
  stepMs: number;
  /** End to end: POST /chat/send at this rate, in `e2eSegments` windows of `e2eSegmentSeconds`, modes in ABBA order. */
  e2eRate: number;
  e2eSegmentSeconds: number;
  e2eSegments: number;
  /** Every connected user sends one typing frame this often (the issue: every 5 s). */
  typingEveryMs: number;
  /** Share of all sockets that close and reconnect per minute (the issue: 10 %). */
  reconnectSharePerMinute: number;
  /** A reconnecting client's pause between the close and the new socket (its backoff). */
  reconnectDelayMs: number;
}

/** Which mode runs first at delivery step `i`: alternating, so a drift of the machine between the two halves of a step cancels over the ramp. */
export function stepOrder(i: number): [LayerMode, LayerMode] {
  return i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
}

/** off, on, on, off, off, on, …: n windows in ABBA order, which cancels a linear drift (a growing database, a warming cache). */
export function abbaOrder(n: number): LayerMode[] {
  return Array.from({ length: n }, (_, i) => ((i % 4 === 0 || i % 4 === 3) ? 'off' : 'on'));
}

/** The 1:1 partner of user `i` of `n`: 0↔1, 2↔3, …; with an odd count the last one types to the one before it. */
export function typingPartner(i: number, n: number): number {
  if (n < 2) return i;
  const p = i ^ 1;
  return p < n ? p : i - 1;
}

/**
 * Per receiver child, the [user id, conversation id] each of its typers types into: user `i` types
 * from child `i % children` (every child holds a socket of every user in scenario 3's layout, so
 * the typing CPU is spread over them), into its 1:1 conversation with its partner.
 */
export function typingAssignments(users: ReadonlyArray<{ id: string }>, children: number): Array<Array<[userId: string, conversationId: string]>> {
  const out = Array.from({ length: children }, () => [] as Array<[string, string]>);
  users.forEach((u, i) => {
    const peer = users[typingPartner(i, users.length)]!;
    if (peer.id !== u.id) out[i % children]!.push([u.id, directConversationId(u.id, peer.id)]);
  });
  return out;
}

/**
 * Time between two victims so that `share` of `totalSockets` reconnect per minute, when each
 * victim is a user whose `socketsPerVictim` sockets all reconnect together.
 */
export function reconnectIntervalMs(totalSockets: number, socketsPerVictim: number, share: number): number {
  if (totalSockets <= 0 || share <= 0) return Number.POSITIVE_INFINITY;
  return (60_000 * socketsPerVictim) / (share * totalSockets);
}

/** The layer's traffic as the load generator reported it over one window (all children). */
export interface LayerTraffic {
  typingSent: number;
  /** Typing frames due on a socket that was not open (mid-reconnect). */
  typingSkipped: number;
  reconnects: number;
  reconnectFailures: Record<string, number>;
  /** Frames other than messages that the sockets received, by type (typing, presence, error…). */
  framesByType: Record<string, number>;
  seconds: number;
}

export interface LayerDeliveryStep extends DeliveryStep {
  mode: LayerMode;
  layer?: LayerTraffic;
}

export interface LayerE2EWindow {
  mode: LayerMode;
  seconds: number;
  attempted: number;
  ok: number;
  /** Messages whose every frame arrived, per second of sending. */
  deliveredPerSec: number;
  frames: number;
  expectedFrames: number;
  p50Ms: number;
  p99Ms: number;
  sendP99Ms: number;
  errors: number;
  skipped: number;
  cpu: CpuSnapshot;
  window: TimeWindow;
  layer?: LayerTraffic;
}

export interface ModeSummary {
  /** Scenario 3: the highest passing step's delivered events/s. */
  bestRate?: number;
  /** p99 and CPU at the highest rate both modes passed (the like-for-like step). */
  atCommon?: { rate: number; p99Ms: number; gatewayCores: number; loadgenCores: number; brokerCores: number; machineCores: number };
  /** End to end, over all windows of the mode. */
  e2e?: { seconds: number; ok: number; deliveredPerSec: number; frames: number; expectedFrames: number; p50Ms: number; p99Ms: number; sendP99Ms: number; errors: number; skipped: number };
}

export interface SignalsResult {
  sockets: number;
  users: number;
  /** Users that get the injected events (2 sockets each), as in scenario 3. */
  targets: number;
  typers: number;
  /** Users whose sockets reconnect (the ones no measured message is sent to). */
  reconnectPool: number;
  reconnectIntervalMs: number;
  typingEveryMs: number;
  reconnectSharePerMinute: number;
  reconnectDelayMs: number;
  conversationsCreated: { sent: number; ok: number; seconds: number };
  stepSeconds: number;
  steps: LayerDeliveryStep[];
  e2eRate: number;
  e2e: LayerE2EWindow[];
  off: ModeSummary;
  on: ModeSummary;
  /** on ÷ off: scenario 3's best delivered rate, and end-to-end delivered messages/s. */
  deliveryRatio?: number;
  e2eRatio?: number;
  /** Why a ratio missed the goal (or could not be measured), from the CPU and the profiles of this run. */
  deliveryCause?: string;
  e2eCause?: string;
  notes: string[];
  elapsedSeconds: number;
}

/** on ÷ off, or undefined when there is nothing to divide by. */
export function layerRatio(on: number | undefined, off: number | undefined): number | undefined {
  if (on === undefined || off === undefined || !Number.isFinite(on) || !Number.isFinite(off) || off <= 0) return undefined;
  return round3(on / off);
}

/**
 * Rates for the comparison around a known best (scenario 3's, earlier in the same run): from
 * 0.75× up in steps of `factor` to 2×, so the resolution near the knee is finer than the 10 % the
 * goal asks to tell apart. Without a best, `fallback`.
 */
export function ratesAround(best: number | undefined, fallback: number[], factor = 1.08): number[] {
  if (!best || !Number.isFinite(best) || best <= 0) return fallback;
  const out: number[] = [];
  for (let r = best * 0.75; r <= best * 2; r *= factor) out.push(Math.round(r / 100) * 100);
  return [...new Set(out)];
}

/**
 * Whether a mode's ramp is over: it failed at `consecutive` rates in a row (each failure already
 * retried once). One failed rate does not end it: on a machine shared with other work a stall
 * can fail a step twice, and the next rate passing shows it was not the limit. A mode's best is
 * then its highest passing rate, the same rule for both modes.
 */
export function modeDone(steps: LayerDeliveryStep[], mode: LayerMode, consecutive = 2): boolean {
  const mine = steps.filter((s) => s.mode === mode);
  return mine.length >= consecutive && mine.slice(-consecutive).every((s) => !s.pass);
}

/** Each mode's best rate and its like-for-like figures, from the steps of both modes. */
export function summarizeSteps(steps: LayerDeliveryStep[]): { off: ModeSummary; on: ModeSummary } {
  const best = (mode: LayerMode) => {
    const passing = steps.filter((s) => s.mode === mode && s.pass);
    return passing.length ? Math.max(...passing.map((s) => s.deliveredPerSec)) : undefined;
  };
  const passedAt = (mode: LayerMode) => new Set(steps.filter((s) => s.mode === mode && s.pass).map((s) => s.targetRate));
  const both = [...passedAt('off')].filter((r) => passedAt('on').has(r));
  const common = both.length ? Math.max(...both) : undefined;
  const at = (mode: LayerMode): ModeSummary['atCommon'] => {
    const st = steps.find((s) => s.mode === mode && s.targetRate === common && s.pass);
    return st ? { rate: st.targetRate, p99Ms: st.p99Ms, gatewayCores: st.cpu.gateway, loadgenCores: round3(st.cpu.loadgenReceivers + st.cpu.loadgenSource), brokerCores: st.cpu.broker, machineCores: st.cpu.machine } : undefined;
  };
  return { off: { bestRate: best('off'), atCommon: at('off') }, on: { bestRate: best('on'), atCommon: at('on') } };
}

/** The rate where the layer made the difference: the first one the "on" half failed while the "off" half passed. */
export function firstDivergence(steps: LayerDeliveryStep[]): { rate: number; on: LayerDeliveryStep; off?: LayerDeliveryStep } | undefined {
  const on = steps.find((s) => s.mode === 'on' && !s.pass);
  if (!on) return undefined;
  return { rate: on.targetRate, on, off: steps.find((s) => s.mode === 'off' && s.targetRate === on.targetRate) };
}

const fmt = (v: number | undefined) => (v === undefined ? '—' : Math.round(v).toLocaleString('en-US'));

/** Issue 14's goal, twice: scenario 3 and the end-to-end scenario, each on ÷ off ≥ 0.9×. */
export function signalsGoals(r: SignalsResult | undefined, skipped: string | undefined): GoalResult[] {
  const notRun = skipped ?? (r?.notes.join('; ') || 'not run');
  const goal = (id: string, what: string, ratio: number | undefined, on: number | undefined, off: number | undefined, unit: string, cause: string | undefined, missing: string): GoalResult => ({
    id,
    scenario: 10,
    what,
    target: `≥ ${LAYER_RATIO_GOAL.toFixed(1)}× without the layer`,
    value: ratio !== undefined ? `${ratio.toFixed(2)}× (${fmt(on)} vs ${fmt(off)} ${unit})` : '—',
    met: ratio !== undefined ? ratio >= LAYER_RATIO_GOAL : null,
    cause: ratio !== undefined ? (ratio < LAYER_RATIO_GOAL ? cause : undefined) : r ? (cause ?? missing) : notRun,
  });
  return [
    goal('signals-delivery-ratio', 'Typing + presence on: gateway delivery (scenario 3)', r?.deliveryRatio, r?.on.bestRate, r?.off.bestRate, 'events/s', r?.deliveryCause, 'both delivery ramps must pass a step'),
    goal('signals-e2e-ratio', 'Typing + presence on: end-to-end delivered msg/s (scenario 4)', r?.e2eRatio, r?.on.e2e?.deliveredPerSec, r?.off.e2e?.deliveredPerSec, 'msg/s', r?.e2eCause, r && r.e2e.length === 0 ? 'the end-to-end windows did not run (chat absent or budget spent)' : 'both modes need an end-to-end window'),
  ];
}

/**
 * Scenario 3's socket layout, shared with scenario 10: per receiver child, which user (index)
 * each socket belongs to. The first `targets` users get the events (one socket in each child);
 * the other sockets go round-robin over the remaining users and stay idle.
 */
export function receiverUserIndices(users: number, targets: number, perReceiver: number): number[] {
  const background = users - targets;
  return Array.from({ length: perReceiver }, (_, i) => (i < targets ? i : background > 0 ? targets + ((i - targets) % background) : i % targets));
}
