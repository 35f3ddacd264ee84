// Check #4 of the Kubernetes delivery: every metric the Grafana dashboard queries is exported by
// the running services. Traffic first, so labelled series that appear on first use exist, and
// so the panels of issue 16's limits read counts that real refusals made: a registration over
// the per-address rate (429), an upgrade over the per-user socket cap (429) and a text frame
// that is not valid UTF-8 (cut by uWS) each move the series their panel plots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, registerAndLogin, request, startStack, uniqueName, waitFor, type Stack, type TestUser } from '@chat/testkit';
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
