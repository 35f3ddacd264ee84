/**
 * What clients got from a load of sends, summarised over windows of start time: a request
 * belongs to the window it was started in, whenever its answer came, so a slow answer to a
 * request of the overload is charged to the overload and a request queued behind it to the
 * phase it was sent in. Pure functions over recorded answers, so the overload and drain tests
 * and their unit test (send-answers.test.ts) read the same figures.
 */

/**
 * How one send ended, as a client sees it:
 * - `created` 201, `repeat` 200 (the clientMsgId was already stored), `unavailable` 503,
 *   `server_error` any other 5xx, `refused` a 4xx;
 * - `timeout`: no answer within the client's patience;
 * - `conn_refused`: the connection was refused (nothing listens: the request never reached Chat);
 * - `conn_reset`: the connection closed or was reset before an answer (the server closed a
 *   keep-alive socket, or cut a request it was running);
 * - `network`: any other transport error.
 */
export type SendOutcome = 'created' | 'repeat' | 'unavailable' | 'server_error' | 'refused' | 'timeout' | 'conn_refused' | 'conn_reset' | 'network';

export const SEND_OUTCOMES: readonly SendOutcome[] = ['created', 'repeat', 'unavailable', 'server_error', 'refused', 'timeout', 'conn_refused', 'conn_reset', 'network'];

export interface SendAnswer {
  /** When the client issued the request (ms since the epoch). */
  startedAt: number;
  /** When the answer (or the failure) arrived. */
  endedAt: number;
  outcome: SendOutcome;
  status?: number;
  /** The envelope's error.code of an answer that was not a success. */
  code?: string;
  /** Retry-After in seconds, when the answer carried one. */
  retryAfter?: number;
  /** The stored message's id (201 and 200). */
  id?: string;
  clientMsgId: string;
  /** The pair it was sent for (index into the load's pairs). */
  pair: number;
  /** On a new connection: how long its TCP connect took (ms); undefined on a reused one. */
  connectMs?: number;
}

export interface AnswerSummary {
  count: number;
  outcomes: Record<SendOutcome, number>;
  /** Latency percentiles of every request in the window, whatever its outcome (ms). */
  p50: number;
  p99: number;
  max: number;
  /** p99 of the 201s and 200s only (ms). */
  okP99: number;
  /** Requests whose answer (or failure) took longer than `slowMs`. */
  slower: number;
  /** 201s and 200s per second of the window. */
  okPerSecond: number;
}

const latency = (a: SendAnswer) => a.endedAt - a.startedAt;

/** The q-quantile (0..1) of `values` by the nearest-rank method; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** The answers to requests started in [from, to). */
export function startedIn(answers: readonly SendAnswer[], from: number, to: number): SendAnswer[] {
  return answers.filter((a) => a.startedAt >= from && a.startedAt < to);
}

export function countOutcomes(answers: readonly SendAnswer[]): Record<SendOutcome, number> {
  const out = Object.fromEntries(SEND_OUTCOMES.map((o) => [o, 0])) as Record<SendOutcome, number>;
  for (const a of answers) out[a.outcome]++;
  return out;
}

export const isAcknowledged = (a: SendAnswer) => a.outcome === 'created' || a.outcome === 'repeat';

/** The figures of the requests started in [from, to). */
export function summarize(answers: readonly SendAnswer[], from: number, to: number, slowMs = 1_000): AnswerSummary {
  const inWindow = startedIn(answers, from, to);
  const all = inWindow.map(latency);
  const ok = inWindow.filter(isAcknowledged);
  return {
    count: inWindow.length,
    outcomes: countOutcomes(inWindow),
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    max: all.length ? Math.max(...all) : 0,
    okP99: quantile(ok.map(latency), 0.99),
    slower: all.filter((ms) => ms > slowMs).length,
    okPerSecond: to > from ? ok.length / ((to - from) / 1000) : 0,
  };
}

/** A window that meets the goal: every request acknowledged (nothing shed, nothing failed) and p99 within `p99GoalMs`. */
export function meetsGoal(s: AnswerSummary, p99GoalMs: number): boolean {
  return s.count > 0 && s.outcomes.created + s.outcomes.repeat === s.count && s.p99 <= p99GoalMs;
}

/**
 * How long after `from` the sends were back to the goal: the first whole `stepMs` after `from`
 * such that every request started from then until `to` meets it (meetsGoal), or undefined when
 * none does (nor the last `stepMs` alone).
 */
export function recoveredAfter(answers: readonly SendAnswer[], from: number, to: number, p99GoalMs: number, stepMs = 250): number | undefined {
  for (let t = from; t + stepMs <= to; t += stepMs) if (meetsGoal(summarize(answers, t, to), p99GoalMs)) return t - from;
  return undefined;
}
