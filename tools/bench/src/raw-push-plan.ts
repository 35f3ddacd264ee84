/**
 * What the two raw push servers (raw-push-uws.ts, raw-push-ws.ts) share, kept free of any socket
 * library so it is unit-tested: the open-loop schedule (the same one the load generator's broker
 * injector follows), the `new_message` frame of an event (the shape and size of the gateways'
 * frames for the events scenario 3 injects, so the load generator counts and times it the same
 * way), the `ready` frame, and who a socket's token names (read, never verified: no JWT check).
 */

/** The HTTP command a raw push server takes: push `rate` events/s for `durationMs`, each to every socket of `pairs[i][1]`. */
export interface PushCommand {
  rate: number;
  durationMs: number;
  /** [from, to] usernames, used round-robin: the same pairs scenario 3 injects. */
  pairs: Array<[string, string]>;
}

export interface PushResult {
  /** Events pushed (each is a frame on every open socket of its target user). */
  sent: number;
  framesSent: number;
  /** Events whose target had no open socket here. */
  unrouted: number;
  elapsedMs: number;
}

/** Milliseconds between two ticks of the push loop, as the broker injector's (loadgen/worker.ts). */
export const PUSH_TICK_MS = 2;

/**
 * Events due by `elapsedMs` into an open-loop run at `rate`/s: one at time 0, then one every
 * 1/rate s, never more than `limit`. The count is cumulative: a late tick catches up.
 */
export function dueEvents(rate: number, elapsedMs: number, limit = Number.POSITIVE_INFINITY): number {
  if (!(rate > 0) || elapsedMs < 0) return 0;
  return Math.min(limit, Math.floor((rate * elapsedMs) / 1000) + 1);
}

/** Checks a /push body; throws a message for the client when it is not one. */
export function parsePushCommand(body: string): PushCommand {
  const v = JSON.parse(body) as Partial<PushCommand>;
  if (typeof v.rate !== 'number' || !(v.rate > 0) || v.rate > 1_000_000) throw new Error('rate: events per second, > 0');
  if (typeof v.durationMs !== 'number' || !(v.durationMs > 0) || v.durationMs > 600_000) throw new Error('durationMs: > 0 and ≤ 600000');
  if (!Array.isArray(v.pairs) || v.pairs.length === 0 || !v.pairs.every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string')) throw new Error('pairs: [[from, to], …]');
  return { rate: v.rate, durationMs: v.durationMs, pairs: v.pairs };
}

const NEW_MESSAGE_OPENING = '{"type":"new_message","message":';

/**
 * One event's frame, serialized once per event as the gateways do: `{"type":"new_message",
 * "message":{id, from, to, text, createdAt}}` with `text` = "t:<epoch ms, µs>" of `now`, which
 * the load generator reads for its latency (frame received − this time).
 */
export function newMessageFrame(id: string, from: string, to: string, now: number): string {
  return `${NEW_MESSAGE_OPENING}${JSON.stringify({ id, from, to, text: `t:${now.toFixed(3)}`, createdAt: new Date(now).toISOString() })}}`;
}

export function readyFrame(user: { id: string; username: string }): string {
  return JSON.stringify({ type: 'ready', user: { id: user.id, username: user.username } });
}

/** The user a bench token names (`sub`, `username`), read without verifying it; undefined when it is not a JWT. */
export function tokenUser(token: string): { id: string; username: string } | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown; username?: unknown };
    return typeof claims.sub === 'string' && typeof claims.username === 'string' ? { id: claims.sub, username: claims.username } : undefined;
  } catch {
    return undefined;
  }
}

/** The `token` query parameter of a request URL's query string ("a=1&token=x"). */
export function tokenOf(query: string): string | undefined {
  return new URLSearchParams(query).get('token') || undefined;
}

/**
 * The push loop both servers run: every PUSH_TICK_MS, what is due is built and handed to
 * `deliver(frame, to)`, which writes it to every socket of `to` and returns how many frames it
 * wrote. Resolves when `durationMs` has passed.
 */
export async function pushLoop(cmd: PushCommand, deliver: (frame: string, to: string) => number, clock: () => number = () => performance.timeOrigin + performance.now()): Promise<PushResult> {
  const t0 = performance.now();
  const idBase = `bench-${process.pid}-${Date.now().toString(36)}`;
  let sent = 0;
  let framesSent = 0;
  let unrouted = 0;
  while (true) {
    const elapsed = performance.now() - t0;
    if (elapsed >= cmd.durationMs) break;
    const due = dueEvents(cmd.rate, elapsed);
    while (sent < due) {
      const [from, to] = cmd.pairs[sent % cmd.pairs.length]!;
      const n = deliver(newMessageFrame(`${idBase}-${sent}`, from, to, clock()), to);
      framesSent += n;
      if (n === 0) unrouted++;
      sent++;
    }
    await new Promise((r) => setTimeout(r, PUSH_TICK_MS));
  }
  return { sent, framesSent, unrouted, elapsedMs: Math.min(performance.now() - t0, cmd.durationMs) };
}
