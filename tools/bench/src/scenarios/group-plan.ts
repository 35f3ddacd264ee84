/**
 * Scenario 9's pure parts (no process, no socket): the result's shape, the join of each 201 with
 * what the members' sockets got, and the exactly-once goal. Kept apart from group.ts so they are
 * unit-tested without a stack.
 */
import type { GroupTally } from '../loadgen/protocol.js';
import type { GoalResult } from '../goal.js';
import { LatencyHistogram, round3 } from '../stats.js';
import type { CpuSnapshot } from './common.js';

export interface GroupDelivery {
  /** Messages answered 201 in the timed window: each must reach every member's socket once. */
  messages: number;
  /** Sockets each message must reach (one per member, all open when the window started). */
  socketsPerMessage: number;
  expectedFrames: number;
  /** Frames of those messages that arrived, duplicates included. */
  frames: number;
  /** Member sockets that never got a message, summed over the messages. */
  lost: number;
  /** Frames beyond the first of a message on one socket. */
  duplicates: number;
  /** Messages that missed at least one member (they have no "last member" time). */
  incompleteMessages: number;
  /** Frames of sends that got no 201 (an error or a timeout after the message was stored): not counted above. */
  framesWithout201: number;
  /** 201 → the first and the last member's frame, over the messages every member got. */
  firstMember: { p50Ms: number; p99Ms: number };
  lastMember: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Messages whose last member frame came before the 201 reached the sender (latency counted as 0). */
  lastBefore201: number;
}

export interface GroupResult {
  members: number;
  senders: number;
  socketsOpen: number;
  /** Sockets per load-generator child, in child order. */
  socketsPerChild: number[];
  targetRate: number;
  seconds: number;
  setup: { registerSeconds: number; createMs: number; connectSeconds: number; conversationId: string };
  warmUp: { messages: number; complete: boolean; seconds: number };
  send: { attempted: number; ok: number; okPerSec: number; errors: Record<string, number>; skipped: number; p50Ms: number; p99Ms: number; maxMs: number };
  delivery?: GroupDelivery;
  roundTrips: { sends?: number; mean?: number; maxLe?: number; notMeasured?: string };
  /** Chat's chat_fanout_duration_seconds{type="group"} over the window (appending one message to every member's timeline), when chat has it. */
  timelineFanout?: { messages: number; meanMs: number; /** Absent when the slowest was beyond the histogram's largest bucket. */ maxLeMs?: number };
  cpu?: CpuSnapshot;
  /** What bounds this scenario on this machine, from the CPU of each process over the window. */
  limit?: string;
  notes: string[];
  elapsedSeconds: number;
}

/**
 * Joins the 201s (key → arrival time) with the receivers' tallies (one per child; their sockets
 * are disjoint). Only messages that got a 201 are owed to the members: those are the contract's
 * "every message that got a 201 reaches every member's devices once".
 */
export function joinGroupDelivery(acked: Array<[string, number]>, tallies: GroupTally[], socketsPerMessage: number): GroupDelivery {
  const merged = new Map<string, { frames: number; sockets: number; firstAt: number; lastAt: number }>();
  for (const tally of tallies)
    for (const [key, frames, sockets, firstAt, lastAt] of tally) {
      const m = merged.get(key);
      if (!m) merged.set(key, { frames, sockets, firstAt, lastAt });
      else {
        m.frames += frames;
        m.sockets += sockets;
        m.firstAt = Math.min(m.firstAt, firstAt);
        m.lastAt = Math.max(m.lastAt, lastAt);
      }
    }
  const first = new LatencyHistogram();
  const last = new LatencyHistogram();
  let frames = 0;
  let lost = 0;
  let duplicates = 0;
  let incomplete = 0;
  let lastBefore201 = 0;
  const ackedKeys = new Set<string>();
  for (const [key, t201] of acked) {
    ackedKeys.add(key);
    const m = merged.get(key);
    const got = m?.sockets ?? 0;
    frames += m?.frames ?? 0;
    duplicates += m ? m.frames - m.sockets : 0;
    lost += Math.max(0, socketsPerMessage - got);
    if (!m || got < socketsPerMessage) {
      incomplete++;
      continue;
    }
    if (m.lastAt < t201) lastBefore201++;
    first.record(m.firstAt - t201);
    last.record(m.lastAt - t201);
  }
  let framesWithout201 = 0;
  for (const [key, m] of merged) if (!ackedKeys.has(key)) framesWithout201 += m.frames;
  return {
    messages: acked.length,
    socketsPerMessage,
    expectedFrames: acked.length * socketsPerMessage,
    frames,
    lost,
    duplicates,
    incompleteMessages: incomplete,
    framesWithout201,
    firstMember: { p50Ms: round3(first.percentile(50)), p99Ms: round3(first.percentile(99)) },
    lastMember: { p50Ms: round3(last.percentile(50)), p99Ms: round3(last.percentile(99)), maxMs: round3(last.max) },
    lastBefore201,
  };
}

/**
 * The one verdict of scenario 9: exactly once to every member. A fixed-rate run has no natural
 * latency target of its own; its latencies and round trips are figures, not goals.
 */
export function groupGoals(r: GroupResult | undefined, skipped: string | undefined): GoalResult[] {
  const d = r?.delivery;
  return [
    {
      id: 'group-exactly-once',
      scenario: 9,
      what: "Group: every 201'd message on every member's socket exactly once",
      target: '0 lost, 0 duplicated',
      value: d ? `${d.lost.toLocaleString('en-US')} lost, ${d.duplicates.toLocaleString('en-US')} duplicated of ${d.expectedFrames.toLocaleString('en-US')} frames (${d.messages.toLocaleString('en-US')} messages)` : '—',
      met: d ? d.lost === 0 && d.duplicates === 0 && d.messages > 0 : null,
      cause: d ? (d.lost || d.duplicates ? `${d.incompleteMessages} of ${d.messages} messages missed at least one member; ${d.framesWithout201} frames came for sends without a 201` : d.messages === 0 ? 'no send got a 201' : undefined) : (skipped ?? r?.notes.join('; ') ?? 'not run'),
    },
  ];
}
