/**
 * The attack suite's machinery (issue 16, "Bad input and attacks"): what a case is, the
 * fixtures every case may use, and the three things every case asserts. A case names what it
 * sends and exactly what must come back; the runner then checks that the attacked service
 * still serves a real request and that nothing was stored. Cases live in tables by area
 * (attack-cases-*.ts), so covering a field added later is one row.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request, sleep, TestClient, type JsonResponse, type RunningService, type ServiceName, type Stack, type TestUser } from '@chat/testkit';

/** The areas of the suite, in the README's order. */
export const AREAS = ['fields', 'bodies', 'unicode', 'jwt', 'authorization', 'websocket', 'methods'] as const;
export type Area = (typeof AREAS)[number];

/**
 * What came back. For HTTP (the upgrade included), `status` is the HTTP status and `code` the
 * envelope's `error.code` (absent on a success). For a socket that was open, `status` is the
 * close code it got (1000 when it stayed open until the case closed it) and `code` the close
 * reason or the `error` frame's code.
 */
export interface Outcome {
  status: number;
  code?: string;
  body?: unknown;
}

export interface AttackCase {
  area: Area;
  name: string;
  /** The service attacked: the one that must still serve afterwards. */
  service: ServiceName;
  send(f: Fixtures): Promise<Outcome>;
  expect: { status: number; code?: string };
  /**
   * Only for input a documented rule accepts (a Unicode text stored as sent, a text exactly at
   * the limit): checks that what was stored is exactly what was sent. Without it, the case must
   * store nothing at all.
   */
  stored?(f: Fixtures, outcome: Outcome): Promise<void>;
  /** More checks on what came back (e.g. that a 200 reveals nothing). */
  check?(f: Fixtures, outcome: Outcome): Promise<void> | void;
}

export interface Fixtures {
  stack: Stack;
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
  mallory: TestUser;
  /** Alice and Bob's 1:1 conversation, with one message. */
  dm: { id: string; messageId: string };
  /** Alice's group (owner) with Bob (member), with one message of Alice's. */
  group: { id: string; messageId: string };
  /** Alice's group that Carol was removed from. */
  formerGroup: { id: string; messageId: string };
  /** Alice's sync cursor (after the fixtures' messages). */
  aliceCursor: string;
  /** A valid service token (HS256, SERVICE_TOKEN_SECRET), as Gateway and Chat present to Auth. */
  serviceToken: string;
  /** Remembers a token or password the suite used, for the log scan at the end. */
  secret<T extends string>(value: T): T;
  /** Every secret remembered so far. */
  readonly secrets: ReadonlySet<string>;
}

/** An HTTP answer as an outcome. */
export function outcomeOf(res: JsonResponse): Outcome {
  return { status: res.status, code: res.body?.error?.code, body: res.body };
}

/**
 * A cheap real request per service, made after every case: Auth looks a user up, Chat reads a
 * sync page, the gateway opens a socket and answers a ping.
 */
export async function assertServes(f: Fixtures, service: ServiceName): Promise<void> {
  if (service === 'auth') {
    const res = await request(`${f.stack.auth.url}/users/${f.bob.username}`, { token: f.alice.token });
    assert.equal(res.status, 200, `auth no longer serves: ${res.status} ${res.text}`);
  } else if (service === 'chat') {
    const res = await request(`${f.stack.chat.url}/chat/sync?limit=1`, { token: f.alice.token });
    assert.equal(res.status, 200, `chat no longer serves: ${res.status} ${res.text}`);
  } else {
    const ws = await TestClient.connect(f.stack.gateway.url, f.alice.token);
    try {
      ws.send({ type: 'ping' });
      await ws.next((frame) => frame.type === 'pong', 5_000);
    } finally {
      ws.close();
    }
  }
}

/**
 * Collections whose writes are not the caller's doing: failed-login records (Auth keeps them
 * by design, login-limiter.ts) and last-seen times (written when a user's last socket closes,
 * which every WebSocket case causes). Everything else a case must leave as it found it.
 */
const NOT_STORED_BY_REQUESTS: Record<'auth' | 'chat', ReadonlySet<string>> = {
  auth: new Set(['login_attempts']),
  chat: new Set(['last_seen']),
};

/**
 * Every stored document of Auth and Chat, as one digest per collection. A write of any kind
 * (insert, update, delete) changes it, so "nothing was stored" is checked on the database
 * itself, not through an API that might hide a stray write.
 */
export async function storedState(stack: Stack): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for (const service of ['auth', 'chat'] as const) {
    const db = await stack.db(service);
    for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
      if (NOT_STORED_BY_REQUESTS[service].has(name)) continue;
      const docs = await db.collection(name).find({}).toArray();
      const lines = docs.map((d) => JSON.stringify(d)).sort();
      state.set(`${service}.${name}`, `${docs.length}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`);
    }
  }
  return state;
}

export function changedCollections(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).map((n) => `${n} (${before.get(n)?.split(':')[0] ?? 'none'} → ${after.get(n)?.split(':')[0] ?? 'none'} documents)`);
}

/**
 * Waits until the stored state stops changing (a send's follow-up writes: the outbox mark
 * within ~100 ms, the conversation list and read marks within CONVERSATION_ACTIVITY_INTERVAL_MS)
 * and answers it.
 */
export async function settledState(stack: Stack, quietMs = 1_500, timeoutMs = 15_000): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = await storedState(stack);
  for (;;) {
    await sleep(quietMs);
    const now = await storedState(stack);
    if (changedCollections(last, now).length === 0) return now;
    if (Date.now() > deadline) throw new Error(`stored state still changing after ${timeoutMs} ms: ${changedCollections(last, now).join(', ')}`);
    last = now;
  }
}

/** Runs one case: the exact answer, the service still serving, nothing stored (or exactly what a rule accepts). */
export async function runCase(f: Fixtures, c: AttackCase, baseline: { state: Map<string, string> }): Promise<void> {
  const outcome = await c.send(f);
  assert.deepEqual(
    { status: outcome.status, code: outcome.code },
    { status: c.expect.status, code: c.expect.code },
    `${c.name}: got ${JSON.stringify(outcome.body ?? outcome).slice(0, 300)}`,
  );
  await c.check?.(f, outcome);
  await assertServes(f, c.service);
  if (c.stored) {
    await c.stored(f, outcome);
    baseline.state = await settledState(f.stack);
    return;
  }
  const after = await storedState(f.stack);
  const changed = changedCollections(baseline.state, after);
  // A failing case must not fail every case after it: the next one starts from what is stored now.
  if (changed.length > 0) baseline.state = await settledState(f.stack);
  assert.deepEqual(changed, [], `${c.name}: something was stored`);
}

/** The services a stack runs, by name. */
export function servicesOf(stack: Stack): RunningService[] {
  return [stack.auth, stack.chat, ...stack.gateways];
}
