/**
 * A database outage under load is answered, never waited out. Chat reaches the shared database
 * through a TCP relay this test takes away, so only this Chat loses it, in the two ways a client
 * can: the server's death (every connection reset, the port refusing) and a silent partition
 * (nothing answers, nothing is refused). While it lasts every send is answered within
 * MONGO_TIMEOUT_MS plus a margin, with 503 `unavailable` and Retry-After, never a 500 nor a hang;
 * once the outage is known, at once. When the relay is back, sends succeed again, and every 201
 * is stored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { metricValue, sleep, startStack, waitFor, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { tcpRelay, type TcpRelay } from './tcp-relay.js';

/** Chat's MONGO_TIMEOUT_MS here (its default): how long one server selection waits. */
const MONGO_TIMEOUT_MS = 2_000;
/**
 * The bound on any answer while the database is gone: a send in flight on a connection that went
 * silent waits for the driver's next heartbeat (MONGO_HEARTBEAT_MS) to time out after
 * MONGO_TIMEOUT_MS; one arriving before the outage is known waits one server selection
 * (MONGO_TIMEOUT_MS). Plus this shared 2-core machine's scheduling: 1 s in all (the client's own
 * patience in the chaos test is 5 s).
 */
const ANSWER_BOUND_MS = MONGO_TIMEOUT_MS + 1_000;
/** Once the outage is known (the first failure, at most a heartbeat and a server selection after the cut), a refusal needs no database. */
const KNOWN_OUTAGE_ANSWER_MS = 300;
const CLIENT_TIMEOUT_MS = 5_000;
const SENDERS = 8;
const IN_FLIGHT_PER_SENDER = 4;

interface Attempt {
  startedAt: number;
  endedAt: number;
  status: number | 'timeout' | 'network';
  code?: string;
  retryAfter?: string | null;
  clientMsgId: string;
  id?: string;
}

let stack: Stack;
let relay: TcpRelay;
let chat: RunningService;
let senders: TestUser[];
let receiver: TestUser;

before(async () => {
  stack = await startStack({ services: ['auth'], env: { LOG_LEVEL: 'warn' } });
  relay = await tcpRelay(stack.env.MONGO_URL!);
  chat = await stack.start('chat', { env: { MONGO_URL: relay.url, MONGO_TIMEOUT_MS: String(MONGO_TIMEOUT_MS) } });
  const users = await Promise.all(Array.from({ length: SENDERS + 1 }, (_, i) => stack.user(i === 0 ? 'rcv' : 'snd')));
  receiver = users[0]!;
  senders = users.slice(1);
});

after(async () => {
  await stack?.stop();
  await relay?.close();
});

async function sendOnce(sender: TestUser, clientMsgId: string): Promise<Attempt> {
  const startedAt = Date.now();
  try {
    const res = await fetch(`${chat.url}/chat/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: receiver.username, text: `m ${clientMsgId}`, clientMsgId }),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => undefined)) as { message?: { id: string }; error?: { code: string } } | undefined;
    return { startedAt, endedAt: Date.now(), status: res.status, code: body?.error?.code, retryAfter: res.headers.get('retry-after'), clientMsgId, id: body?.message?.id };
  } catch (err) {
    return { startedAt, endedAt: Date.now(), status: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network', clientMsgId };
  }
}

/**
 * `cut`: the server's death as a client sees it (connections reset, then refused), what stopping
 * FerretDB does; the outage is known from the first reset. `stall`: a silent partition (nothing
 * answers, nothing is refused), known only when a server selection times out: the
 * MONGO_TIMEOUT_MS bound.
 */
for (const fault of ['cut', 'stall'] as const) {
  test(`the database ${fault === 'cut' ? 'cut' : 'silently partitioned'} under load: every send answered within MONGO_TIMEOUT_MS + 1 s with 503 (at once once known), none 500 or hung; sends recover and every 201 is stored`, { timeout: 90_000 }, () => underLoad(fault));
}

async function underLoad(fault: 'cut' | 'stall'): Promise<void> {
  // Warm each sender's path (recipient lookup, indexes) while the database is there (and back from the last test).
  for (const s of senders) await waitFor('a stored send', async () => (await sendOnce(s, `warm-${fault}-${s.id}`)).status === 201, 15_000, 200);

  const attempts: Attempt[] = [];
  let stopped = false;
  let seq = 0;
  // Each client retries a 503 with the same clientMsgId (what a client must do), after a short pause.
  const client = async (sender: TestUser) => {
    while (!stopped) {
      const clientMsgId = `${fault}-${seq++}`;
      for (;;) {
        const a = await sendOnce(sender, clientMsgId);
        attempts.push(a);
        if (a.status === 200 || a.status === 201 || stopped) break;
        await sleep(50);
      }
    }
  };
  const load = senders.flatMap((s) => Array.from({ length: IN_FLIGHT_PER_SENDER }, () => client(s)));

  await sleep(2_000);
  const cutAt = Date.now();
  relay[fault]();
  await sleep(6_000);
  await relay.restore();
  const restoredAt = Date.now();
  await waitFor('a send stored after the database came back', () => attempts.some((a) => a.startedAt > restoredAt && a.status === 201), 15_000, 100);
  const backAt = attempts.filter((a) => a.startedAt > restoredAt && a.status === 201).map((a) => a.endedAt).sort((x, y) => x - y)[0]!;
  await sleep(1_000);
  stopped = true;
  await Promise.all(load);

  // Those in flight at the cut count too: they are the ones a partition can leave waiting.
  const during = attempts.filter((a) => a.endedAt >= cutAt && a.startedAt < restoredAt);
  const byStatus = (list: Attempt[]) => list.reduce<Record<string, number>>((m, a) => ((m[String(a.status)] = (m[String(a.status)] ?? 0) + 1), m), {});
  const slowest = Math.max(...during.map((a) => a.endedAt - a.startedAt));
  const refused = during.filter((a) => a.status === 503);
  const known = refused.filter((a) => a.startedAt >= cutAt + MONGO_TIMEOUT_MS + 500);
  const slowestKnown = Math.max(0, ...known.map((a) => a.endedAt - a.startedAt));
  console.log(
    `database ${fault} ${restoredAt - cutAt} ms under ${SENDERS * IN_FLIGHT_PER_SENDER} concurrent senders: ${JSON.stringify(byStatus(during))}; slowest answer ${slowest} ms; ` +
      `503s once the outage was known: ${known.length}, slowest ${slowestKnown} ms; sends back ${backAt - restoredAt} ms after the restore`,
  );

  assert.deepEqual(attempts.filter((a) => a.status === 'timeout' || a.status === 'network' || a.status === 500).map((a) => a.status), [], 'no hang, no lost connection, no 500');
  assert.ok(refused.length > 0, 'sends while the database was cut got 503');
  assert.ok(during.every((a) => a.status === 503 || a.status === 201 || a.status === 200), `only 201/200 (before the cut took effect) or 503: ${JSON.stringify(byStatus(during))}`);
  assert.ok(refused.every((a) => a.code === 'unavailable' && a.retryAfter === '1'), '503 unavailable with Retry-After: 1');
  assert.ok(slowest <= ANSWER_BOUND_MS, `every answer within ${ANSWER_BOUND_MS} ms (slowest ${slowest} ms)`);
  assert.ok(known.length > 0, 'sends arrived while the outage was known');
  assert.ok(slowestKnown <= KNOWN_OUTAGE_ANSWER_MS, `once known, 503 at once (slowest ${slowestKnown} ms)`);
  assert.ok(backAt - restoredAt <= 5_000, `sends back within 5 s of the restore (${backAt - restoredAt} ms)`);

  // A 201 means stored: every acknowledged message is in the database (read directly, not through the relay).
  const acknowledged = attempts.filter((a) => a.status === 201).map((a) => a.id!);
  const db = await stack.db('chat');
  const stored = await db.collection('messages').countDocuments({ _id: { $in: acknowledged.map((id) => new ObjectId(id)) } });
  assert.equal(stored, acknowledged.length, 'every 201 is stored');

  // The outage is visible on Chat's metrics while it lasts, and over once the database answers.
  assert.ok((await metricValue(chat, 'chat_database_outages_total')) >= 1);
  assert.equal(await metricValue(chat, 'chat_database_unavailable'), 0);
  assert.ok((await metricValue(chat, 'http_request_duration_seconds_count', { route: '/chat/send', status: '503' })) >= refused.length);
  assert.equal(chat.proc.exitCode, null, 'chat still runs');
  // Nothing was logged as a bug.
  assert.doesNotMatch(chat.output(), /a 500 is a bug/);
}
