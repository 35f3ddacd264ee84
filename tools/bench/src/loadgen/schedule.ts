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
