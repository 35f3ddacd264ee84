/** The load generator's schedules (pure, shared by its children and the harness's plan). */

/**
 * The slots due in (`prevMs`, `nowMs`] of a schedule of `n` slots spread evenly over `periodMs`
 * and repeating (slot k at k·period/n, k·period/n + period, …), as indices 0..n-1 in firing order.
 * Both the typing schedule (n typers, every 5 s) and the reconnect schedule (n victims, one every
 * interval: period = n·interval) are this; times are from a shared epoch, so two children firing
 * the same schedule fire the same slot at the same moment.
 */
export function dueSlots(prevMs: number, nowMs: number, n: number, periodMs: number): number[] {
  if (n <= 0 || periodMs <= 0 || nowMs <= prevMs) return [];
  const first = Math.floor((prevMs * n) / periodMs) + 1;
  const last = Math.floor((nowMs * n) / periodMs);
  const out: number[] = [];
  // A stalled tick fires each slot at most once (no burst of repeats after a pause).
  for (let s = Math.max(first, last - n + 1); s <= last; s++) out.push(((s % n) + n) % n);
  return out;
}

/** One phase of an open-loop send schedule: `rate` requests per second for `durationMs`. */
export interface RatePhase {
  rate: number;
  durationMs: number;
}

/**
 * Requests due by `elapsedMs` into a schedule of phases run back to back (the overload scenario's
 * 3× then ½× is one schedule, so the drop has no gap in it: a second send command would start
 * only once every request of the first had been answered). Cumulative over the phases, so a
 * phase boundary neither loses nor repeats a request; capped at the schedule's end.
 */
export function dueSends(phases: RatePhase[], elapsedMs: number): number {
  let due = 0;
  let start = 0;
  for (const p of phases) {
    const inPhase = Math.min(Math.max(elapsedMs - start, 0), p.durationMs);
    due += (p.rate * inPhase) / 1000;
    start += p.durationMs;
  }
  // A tiny epsilon: 3 phases of 1/3 s at 3/s must come to exactly 3, not 2.9999.
  return Math.floor(due + 1e-9);
}

/** The schedule's length. */
export function scheduleMs(phases: RatePhase[]): number {
  return phases.reduce((a, p) => a + p.durationMs, 0);
}
