/**
 * The terminal client against issue 16's limits, on real Auth and gateway processes: a login
 * refused by the per-address rate says how long to wait on stderr (exit 2), and a `listen` whose
 * upgrade the gateway refuses (429, one socket per user here) says so and backs off between
 * attempts, within the reconnect policy, until a socket is free.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_BACKOFF } from '@chat/client-core';
import { request, startStack, uniqueName, type Stack } from '@chat/testkit';
import { assertExit, cliUser, newConfigDir, runCli, startCli, type CliProcess } from './cli.ts';

let stack: Stack;
before(async () => {
  // Eight logins and registrations a minute from 127.0.0.1 (a token every 7.5 s after the burst),
  // and one socket per user on the gateway.
  stack = await startStack({ serviceEnv: { auth: { ADDRESS_ATTEMPTS_PER_MINUTE: '8' }, gateway: { MAX_SOCKETS_PER_USER: '1' } } });
});
after(async () => {
  await stack?.stop();
});

const isLive = (p: CliProcess) => p.stderr.includes('-- Live: new messages appear as they arrive.');
const REFUSED = /The gateway refused the connection: too many open connections for this user or address \(429\); close a listen you no longer need; trying again in (\d+\.\d) s\./g;

test('a second listen of one user is refused with 429, says so, and backs off until the first one ends', async (t) => {
  const bob = await cliUser(stack, 'bob');
  const first = startCli(bob.dir, ['listen']);
  await first.waitFor('live', isLive);
  const second = startCli(bob.dir, ['listen']);
  await second.waitFor('three refusals', (p) => [...p.stderr.matchAll(REFUSED)].length >= 3);
  const delays = [...second.stderr.matchAll(REFUSED)].map((m) => Number(m[1]) * 1000);
  t.diagnostic(`delays after each 429: ${delays.join(', ')} ms`);
  // Attempt n waits base·2ⁿ ±50 %: growing, never the loop a refusal without backoff would be.
  delays.slice(0, 3).forEach((ms, n) => {
    const step = DEFAULT_BACKOFF.baseMs * 2 ** n;
    assert.ok(ms >= step * (1 - DEFAULT_BACKOFF.jitter) - 100 && ms <= step * (1 + DEFAULT_BACKOFF.jitter) + 100, `attempt ${n}: ${ms} ms`);
  });
  assert.equal(isLive(second), false);
  // The first listen ends: its socket is free, and the second one's next attempt gets it.
  assertExit(await first.kill('SIGINT'), 0);
  await second.waitFor('the second listen live', isLive, 30_000);
  assertExit(await second.kill('SIGINT'), 0);
});

test("a login refused by Auth's per-address rate prints the wait on stderr and exits 2", async () => {
  // Spend what is left of this address's budget, then one more through the client.
  for (let i = 0; i < 10; i++) {
    const res = await request(`${stack.auth.url}/login`, { body: { username: uniqueName(), password: 'not the password' } });
    if (res.status === 429) break;
  }
  const res = await runCli(newConfigDir(), ['login', uniqueName(), '--password', 'not the password', '--auth', stack.auth.url]);
  assertExit(res, 2);
  assert.match(res.stderr, /^Too many logins or sign-ups from your network address\. Try again in \d+ seconds?\.\n$/);
  assert.equal(res.stdout, '');
});

