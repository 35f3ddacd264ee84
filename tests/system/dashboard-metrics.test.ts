// Check #4 of the Kubernetes delivery: every metric the Grafana dashboard queries is exported by
// the running services. Traffic first, so labelled series that appear on first use exist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerAndLogin, request, startStack, waitFor, type Stack } from '@chat/testkit';
import { checkDashboardAgainstScrapes } from '@chat/k8s-checks';
import WebSocket from 'ws';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

test('every metric the dashboard queries is exported by a running service', async () => {
  const alice = await registerAndLogin(stack.auth.url);
  const bob = await registerAndLogin(stack.auth.url);
  await request(`${stack.auth.url}/login`, { body: { username: alice.username, password: 'wrong password!' } });
  const ws = new WebSocket(`${stack.gateway.url.replace(/^http/, 'ws')}/?token=${bob.token}`);
  const got = new Promise<void>((resolve) => ws.on('message', (d) => String(d).includes('"new_message"') && resolve()));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const sent = await request(`${stack.chat.url}/chat/send`, { token: alice.token, body: { to: bob.username, text: 'metrics' } });
  assert.equal(sent.status, 201, sent.text);
  await got;
  // A rejected upgrade, so the rejection counter has a series too.
  await fetch(`${stack.gateway.url}/?token=garbage`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } }).catch(() => undefined);
  const bodies = await waitFor('metrics bodies', async () => {
    const texts = await Promise.all([stack.auth, stack.chat, stack.gateway].map(async (s) => (await fetch(`${s.metricsUrl}/metrics`)).text()));
    return texts.every((t) => t.length > 0) ? texts : undefined;
  });
  ws.close();
  const { missing, present } = checkDashboardAgainstScrapes(bodies);
  assert.deepEqual(missing, [], `the dashboard queries metrics nobody exports: ${missing.join(', ')}`);
  assert.ok(present.length >= 15, `expected the dashboard to query at least 15 exported metrics, got ${present.length}`);
});
