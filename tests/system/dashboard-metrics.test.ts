// Check #4 of the Kubernetes delivery: every metric the Grafana dashboard queries is exported by
// the running services. Traffic first, so labelled series that appear on first use exist, and
// so the panels of issue 16's limits read counts that real refusals made: a registration over
// the per-address rate (429), an upgrade over the per-user socket cap (429) and a text frame
// that is not valid UTF-8 (cut by uWS) each move the series their panel plots. Issue 17's
// admission panels likewise: a Chat and an Auth that admit one request at a time, under a burst
// of sends and of logins, move every admission series (in flight, queued, shed, wait) for real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, registerAndLogin, request, startStack, uniqueName, waitFor, type JsonResponse, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { checkDashboardAgainstScrapes, dashboardExpressions } from '@chat/k8s-checks';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';

let stack: Stack;
let carol: TestUser;
before(async () => {
  // Three registrations an hour from one address (Carol here, Alice and Bob in the first test),
  // one socket per user: the fourth registration and Carol's second socket are refused for real.
  stack = await startStack({ serviceEnv: { auth: { ADDRESS_REGISTRATIONS_PER_HOUR: '3' }, gateway: { MAX_SOCKETS_PER_USER: '1' } } });
  carol = await registerAndLogin(stack.auth.url);
});
after(async () => {
  await stack?.stop();
});

const upgradeHeaders = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };

/**
 * An upgrade request through node:http (fetch refuses the Upgrade and Connection headers): the
 * status and body of a refusal, or 101 (the socket is then dropped).
 */
function upgrade(token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${stack.gateway.url}/?token=${encodeURIComponent(token)}`, { headers: upgradeHeaders });
    req.once('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: '' });
    });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** A socket of `token` once open (it has sent `ready` by the time its first frame arrives). */
async function openSocket(token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${stack.gateway.url.replace(/^http/, 'ws')}/?token=${token}`);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return ws;
}

test('every metric the dashboard queries is exported by a running service', async () => {
  const alice = await registerAndLogin(stack.auth.url);
  const bob = await registerAndLogin(stack.auth.url);
  await request(`${stack.auth.url}/login`, { body: { username: alice.username, password: 'wrong password!' } });
  const ws = await openSocket(bob.token);
  const got = new Promise<void>((resolve) => ws.on('message', (d) => String(d).includes('"new_message"') && resolve()));
  const sent = await request(`${stack.chat.url}/chat/send`, { token: alice.token, body: { to: bob.username, text: 'metrics' } });
  assert.equal(sent.status, 201, sent.text);
  await got;
  // A rejected upgrade, so the rejection counter has a series too.
  assert.equal((await upgrade('garbage')).status, 401);
  const bodies = await waitFor('metrics bodies', async () => {
    const texts = await Promise.all([stack.auth, stack.chat, stack.gateway].map(async (s) => (await fetch(`${s.metricsUrl}/metrics`)).text()));
    return texts.every((t) => t.length > 0) ? texts : undefined;
  });
  ws.close();
  const { missing, present } = checkDashboardAgainstScrapes(bodies);
  assert.deepEqual(missing, [], `the dashboard queries metrics nobody exports: ${missing.join(', ')}`);
  assert.ok(present.length >= 15, `expected the dashboard to query at least 15 exported metrics, got ${present.length}`);
});

test("the limits' panels plot real refusals: Auth by limit, upgrades and closed sockets by reason", async () => {
  const exprs = dashboardExpressions().join('\n');
  for (const metric of ['auth_limit_refusals_total', 'gateway_connections_rejected_total', 'gateway_sockets_closed_total']) assert.match(exprs, new RegExp(metric));

  // Auth: the fourth registration from this address within the hour is a 429 with Retry-After.
  const before = await metricValue(stack.auth, 'auth_limit_refusals_total', { limit: 'address_registrations' });
  const fourth = await request(`${stack.auth.url}/register`, { body: { username: uniqueName(), password: 'correct horse battery' } });
  assert.equal(fourth.status, 429, fourth.text);
  assert.equal(fourth.body?.error?.code, 'too_many_requests');
  assert.ok(Number(fourth.headers.get('retry-after')) > 0, 'Retry-After');
  assert.equal(await metricValue(stack.auth, 'auth_limit_refusals_total', { limit: 'address_registrations' }), before + 1);

  // Gateway: Carol holds her one socket; a second is refused with 429 too_many_connections.
  const rejectedBefore = await metricValue(stack.gateway, 'gateway_connections_rejected_total', { reason: 'user_limit' });
  const first = await openSocket(carol.token);
  const second = await upgrade(carol.token);
  assert.equal(second.status, 429, second.body);
  assert.equal(JSON.parse(second.body).error.code, 'too_many_connections');
  assert.equal(await metricValue(stack.gateway, 'gateway_connections_rejected_total', { reason: 'user_limit' }), rejectedBefore + 1);

  // A text frame that is not valid UTF-8: uWS cuts the socket (1006), counted as invalid_utf8.
  const closedBefore = await metricValue(stack.gateway, 'gateway_sockets_closed_total', { reason: 'invalid_utf8' });
  const closed = new Promise<number>((resolve) => first.once('close', (code) => resolve(code)));
  first.on('error', () => undefined);
  first.send(Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]), { binary: false });
  assert.equal(await closed, 1006);
  await waitFor('the invalid_utf8 close counted', async () => (await metricValue(stack.gateway, 'gateway_sockets_closed_total', { reason: 'invalid_utf8' })) === closedBefore + 1, 5_000);
});

/** The value of an unlabelled gauge in a /metrics body (NaN when absent). */
function gauge(body: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
}

/**
 * `groups` groups of `size` requests made by `fire` at once, one group every `everyMs`, while
 * `/metrics` of `svc` is scraped back to back. A group arriving at once saturates one slot and its
 * queue of 4 whatever the machine's speed; repeated, the saturation lasts long enough for scrapes
 * to see it. The answers, and the highest in-flight and queued values seen.
 */
async function burstWatching(svc: RunningService, prefix: string, groups: number, size: number, everyMs: number, fire: () => Promise<JsonResponse>): Promise<{ answers: JsonResponse[]; peakInFlight: number; peakQueued: number; scrapes: number }> {
  let done = false;
  let peakInFlight = 0;
  let peakQueued = 0;
  let scrapes = 0;
  const watcher = (async () => {
    while (!done) {
      const body = await (await fetch(`${svc.metricsUrl}/metrics`)).text();
      scrapes++;
      peakInFlight = Math.max(peakInFlight, gauge(body, `${prefix}_admission_in_flight`));
      peakQueued = Math.max(peakQueued, gauge(body, `${prefix}_admission_queued`));
    }
  })();
  const pending: Array<Promise<JsonResponse>> = [];
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < size; i++) pending.push(fire());
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const answers = await Promise.all(pending);
  done = true;
  await watcher;
  return { answers, peakInFlight, peakQueued, scrapes };
}

test("the admission panels plot real saturation: a Chat and an Auth admitting one request at a time, in flight, queued, shed and waited", async () => {
  const exprs = dashboardExpressions().join('\n');
  for (const prefix of ['chat', 'auth'])
    for (const metric of ['admission_in_flight', 'admission_limit', 'admission_queued', 'admission_shed_total', 'admission_wait_seconds_bucket']) assert.match(exprs, new RegExp(`${prefix}_${metric}`));

  // One more Auth and Chat of this stack (its databases), each admitting one request at a time
  // (the default wait budget and queue: 250 ms, 4 waiting). A fresh Auth process has its own
  // per-address registration count, so the two users below fit under this stack's 3 an hour.
  const auth = await stack.start('auth', { env: { ADMISSION_MAX_IN_FLIGHT: '1' } });
  const chat = await stack.start('chat', { env: { ADMISSION_MAX_IN_FLIGHT: '1' } });
  try {
    const dave = await registerAndLogin(auth.url);
    const erin = await registerAndLogin(auth.url);
    for (const [svc, prefix, fire] of [
      [chat, 'chat', () => request(`${chat.url}/chat/send`, { token: dave.token, body: { to: erin.username, text: 'overload' } })],
      [auth, 'auth', () => request(`${auth.url}/login`, { body: { username: erin.username, password: erin.password } })],
    ] as const) {
      const shedBefore = await metricValue(svc, `${prefix}_admission_shed_total`);
      const queueFullBefore = await metricValue(svc, `${prefix}_admission_shed_total`, { reason: 'queue_full' });
      const waitedBefore = await metricValue(svc, `${prefix}_admission_wait_seconds_count`);
      const { answers, peakInFlight, peakQueued, scrapes } = await burstWatching(svc, prefix, 30, 20, 50, fire);
      const statuses = new Map<number, number>();
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      const ok = prefix === 'chat' ? 201 : 200;
      const shed = answers.filter((a) => a.status === 503);
      // Only successes and the admission's refusals: never a 500, never another status.
      assert.deepEqual([...statuses.keys()].sort(), [ok, 503].sort(), `${prefix}: ${JSON.stringify(Object.fromEntries(statuses))}`);
      for (const a of shed) {
        assert.equal(a.body?.error?.code, 'unavailable', a.text);
        assert.equal(a.headers.get('retry-after'), '1');
      }
      // The gauges, scraped during the burst: the limit held, and requests queued behind it.
      assert.equal(await metricValue(svc, `${prefix}_admission_limit`), 1);
      assert.equal(peakInFlight, 1, `${prefix}: the highest in-flight seen in ${scrapes} scrapes`);
      assert.ok(peakQueued >= 1, `${prefix}: nothing seen queued in ${scrapes} scrapes`);
      // Every 503 on the wire is one the shed counter counted, the queue's among them.
      assert.equal((await metricValue(svc, `${prefix}_admission_shed_total`)) - shedBefore, shed.length, `${prefix} shed`);
      assert.ok((await metricValue(svc, `${prefix}_admission_shed_total`, { reason: 'queue_full' })) > queueFullBefore, `${prefix} queue_full`);
      // Requests that waited for the slot and then got it are what the wait histogram counts.
      assert.ok((await metricValue(svc, `${prefix}_admission_wait_seconds_count`)) > waitedBefore, `${prefix}: no admitted request waited`);
      await waitFor(`${prefix} idle`, async () => (await metricValue(svc, `${prefix}_admission_in_flight`)) === 0 && (await metricValue(svc, `${prefix}_admission_queued`)) === 0, 5_000);
    }
  } finally {
    await Promise.all([chat.stop(), auth.stop()]);
  }
});
