/**
 * Connecting and frames against a real gateway process (with real Auth for tokens and JWKS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { generateSigningKeyPem, metricValue, registerAndLogin, request, sleep, startStack, TestClient, waitFor, wsUrl, type Stack, type TestUser } from '@chat/testkit';
import { rawTextFrame, signUserToken, upgradeStatus } from './support.js';

describe('gateway: connecting and frames', () => {
  let s: Stack;
  let gw: string;
  let alice: TestUser;

  before(async () => {
    s = await startStack({
      services: ['auth', 'gateway'],
      serviceEnv: { gateway: { ALLOWED_ORIGINS: 'https://app.example.com', MAX_FRAMES_PER_SECOND: '20', IDLE_TIMEOUT_SECONDS: '8' } },
    });
    gw = s.gateways[0]!.url;
    alice = await registerAndLogin(s.auth.url);
  });
  after(async () => {
    if (process.env.GW_TEST_DEBUG) console.log(s?.gateways[0]?.output().slice(-4000));
    await s?.stop();
  });

  describe('upgrade', () => {
    it('accepts ?token= and sends ready with the user', async () => {
      const c = await TestClient.connect(gw, alice.token);
      assert.deepEqual(c.frames[0], { type: 'ready', user: { id: alice.id, username: alice.username } });
      c.close();
    });

    it('accepts Authorization: Bearer on the upgrade request', async () => {
      const c = await TestClient.open(`${wsUrl(gw)}/`, { headers: { authorization: `Bearer ${alice.token}` } });
      const ready = await c.next((f) => f.type === 'ready');
      assert.equal(ready.user.id, alice.id);
      c.close();
    });

    it('answers 401 with the error envelope for a missing token', async () => {
      const r = await upgradeStatus(`${wsUrl(gw)}/`);
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'unauthorized');
      assert.equal(typeof r.body.error.message, 'string');
    });

    it('answers 401 for a garbage token and for a tampered one', async () => {
      assert.equal((await upgradeStatus(`${wsUrl(gw)}/?token=not-a-jwt`)).status, 401);
      const [h, p, sig] = alice.token.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'someone-else' })).toString('base64url')}.${sig}`;
      assert.equal((await upgradeStatus(`${wsUrl(gw)}/?token=${tampered}`)).status, 401);
    });

    it('answers 401 for an expired token, beyond and within the verifier\'s clock tolerance', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const exp of [now - 600, now - 5]) {
        const token = await signUserToken(s, { sub: alice.id, username: alice.username, exp });
        const r = await upgradeStatus(`${wsUrl(gw)}/?token=${token}`);
        assert.equal(r.status, 401, `exp ${exp - now}s`);
        assert.match(r.body.error.message, /expired/);
      }
    });

    it('answers 401 for a token with the wrong audience or issuer', async () => {
      const exp = Math.floor(Date.now() / 1000) + 600;
      const wrongAud = await signUserToken(s, { sub: alice.id, username: alice.username, exp, aud: 'someone-else' });
      const r = await upgradeStatus(`${wsUrl(gw)}/?token=${wrongAud}`);
      assert.equal(r.status, 401);
      assert.match(r.body.error.message, /aud/);
      const wrongIss = await signUserToken(s, { sub: alice.id, username: alice.username, exp, iss: 'evil' });
      assert.equal((await upgradeStatus(`${wsUrl(gw)}/?token=${wrongIss}`)).status, 401);
      // The same signer with the right claims is accepted: the rejections above are about the claims.
      const good = await signUserToken(s, { sub: alice.id, username: alice.username, exp });
      (await TestClient.connect(gw, good)).close();
    });

    it('answers 403 for an origin outside ALLOWED_ORIGINS, and accepts a listed one', async () => {
      const url = `${wsUrl(gw)}/?token=${alice.token}`;
      const r = await upgradeStatus(url, { origin: 'https://evil.example' });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'forbidden_origin');
      const ok = await TestClient.open(url, { headers: { origin: 'https://app.example.com' } });
      await ok.next((f) => f.type === 'ready');
      ok.close();
    });

    it('counts rejections by reason', async () => {
      assert.ok((await metricValue(s.gateways[0]!, 'gateway_connections_rejected_total', { reason: 'missing_token' })) >= 1);
      assert.ok((await metricValue(s.gateways[0]!, 'gateway_connections_rejected_total', { reason: 'origin' })) >= 1);
      assert.ok((await metricValue(s.gateways[0]!, 'gateway_connections_rejected_total', { reason: 'expired_token' })) >= 2);
    });

    it('never writes the token into its logs', () => {
      const out = s.gateways[0]!.output();
      assert.ok(out.length > 0);
      assert.ok(!out.includes(alice.token), 'the token appeared in the gateway log');
      assert.ok(!out.includes(alice.token.split('.')[2]!), 'the token signature appeared in the gateway log');
    });
  });

  describe('frames', () => {
    it('answers ping with pong', async () => {
      const c = await TestClient.connect(gw, alice.token);
      c.send({ type: 'ping' });
      await c.next((f) => f.type === 'pong');
      c.close();
    });

    it('answers malformed and unknown frames with bad_frame and keeps the socket open', async () => {
      const c = await TestClient.connect(gw, alice.token);
      for (const bad of ['{nope', '[]', '{"type":"dance"}', '{"type":{"$ne":null}}', '"ping"']) c.send(bad);
      c.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
      const errors = await c.waitForCount('error', 6);
      for (const e of errors) {
        assert.equal(e.error.code, 'bad_frame');
        assert.equal(typeof e.error.message, 'string');
      }
      c.send({ type: 'ping' });
      await c.next((f) => f.type === 'pong');
      assert.ok(c.isOpen);
      c.close();
    });

    it('closes with 1009 on a frame over 16 KB, and accepts one of exactly 16 KB', async () => {
      const c = await TestClient.connect(gw, alice.token);
      const exact = JSON.stringify({ type: 'ping', pad: '' });
      c.send(exact.slice(0, -1) + '"' + 'x'.repeat(16 * 1024 - exact.length - 1) + '}'); // still valid-ish size: 16 KB
      c.send({ type: 'ping' });
      await c.next((f) => f.type === 'pong');
      c.send('x'.repeat(16 * 1024 + 1));
      const closed = await c.waitClosed();
      assert.equal(closed.code, 1009);
      // Far over the limit as well (beyond uWS's own payload cap it would be an abnormal 1006).
      const d = await TestClient.connect(gw, alice.token);
      d.send('x'.repeat(60 * 1024));
      assert.equal((await d.waitClosed()).code, 1009);
    });

    it('closes a client flooding over MAX_FRAMES_PER_SECOND with 1008, and lets a client at the limit live', async () => {
      const polite = await TestClient.connect(gw, alice.token);
      for (let i = 0; i < 15; i++) polite.send({ type: 'ping' });
      await polite.waitForCount('pong', 15);
      const flood = await TestClient.connect(gw, alice.token);
      for (let i = 0; i < 100; i++) flood.send({ type: 'ping' });
      const closed = await flood.waitClosed();
      assert.equal(closed.code, 1008);
      assert.ok(flood.ofType('pong').length <= 20, `${flood.ofType('pong').length} pongs before the close`);
      assert.ok(polite.isOpen);
      polite.close();
    });

    it('a text frame that is not valid UTF-8 is cut by uWS without a close frame (the client sees 1006), and counted as invalid_utf8', async () => {
      // uWS validates text frames before the application sees them and closes the TCP connection
      // itself: no 1007 can be sent (PROTOCOL.md, "Close codes").
      const before = await metricValue(s.gateways[0]!, 'gateway_sockets_closed_total', { reason: 'invalid_utf8' });
      const { opcodes, closeCode } = await rawTextFrame(s.gateways[0]!.port, `/?token=${alice.token}`, Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]));
      assert.deepEqual(opcodes, [0x1], 'the ready frame, then no close frame');
      assert.equal(closeCode, undefined);
      await waitFor('the close counted', async () => (await metricValue(s.gateways[0]!, 'gateway_sockets_closed_total', { reason: 'invalid_utf8' })) === before + 1, 5_000);
      // Valid multi-byte UTF-8 in a frame is fine: a bad_frame answer (not JSON), and the socket stays.
      const c = await TestClient.connect(gw, alice.token);
      c.send('{"type":"pïng ✓ 👋"}');
      assert.equal((await c.next((f) => f.type === 'error')).error.code, 'bad_frame');
      assert.ok(c.isOpen);
      c.close();
    });

    it('closes with 4001 token_expired when the token expires (3-second token)', async () => {
      const exp = Math.floor(Date.now() / 1000) + 3;
      const token = await signUserToken(s, { sub: alice.id, username: alice.username, exp });
      const c = await TestClient.connect(gw, token);
      const closed = await c.waitClosed(8_000);
      assert.equal(closed.code, 4001);
      assert.equal(closed.reason, 'token_expired');
      const lateBy = Date.now() / 1000 - exp;
      assert.ok(lateBy >= 0 && lateBy < 1.5, `closed ${lateBy.toFixed(2)} s after exp`);
    });
  });

  describe('liveness', () => {
    it('drops a peer that stops answering pings, and keeps one that answers (IDLE_TIMEOUT_SECONDS=8)', async () => {
      const url = `${wsUrl(gw)}/?token=${alice.token}`;
      const dead = await TestClient.open(url, { autoPong: false });
      const alive = await TestClient.open(url);
      let pings = 0;
      alive.ws.on('ping', () => pings++);
      const t0 = Date.now();
      const closed = await dead.waitClosed(20_000);
      const after = (Date.now() - t0) / 1000;
      assert.ok(after >= 4 && after <= 16, `dead peer dropped after ${after.toFixed(1)} s`);
      assert.notEqual(closed.code, 1000);
      assert.ok(pings >= 1, 'the server pinged');
      assert.ok(alive.isOpen, 'a peer that answers pings stays');
      alive.close();
    });
  });

  describe('health', () => {
    it('serves /healthz and /readyz on the WebSocket port, and /metrics on METRICS_PORT only', async () => {
      assert.equal((await fetch(`${gw}/healthz`)).status, 200);
      const ready = await fetch(`${gw}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as any).checks, { draining: true, broker: true });
      assert.equal((await fetch(`${gw}/metrics`)).status, 404, 'the public port serves no /metrics');
      const metrics = await (await fetch(`${s.gateways[0]!.metricsUrl}/metrics`)).text();
      for (const name of [
        'gateway_open_sockets',
        'gateway_connections_opened_total',
        'gateway_frames_in_total',
        'gateway_frames_out_total',
        'gateway_events_consumed_total',
        'http_request_duration_seconds_bucket',
        'process_cpu_user_seconds_total',
      ]) {
        assert.ok(metrics.includes(name), name);
      }
      const notFound = await fetch(`${gw}/nope`);
      assert.equal(notFound.status, 404);
      assert.equal(((await notFound.json()) as any).error.code, 'not_found');
      // Another method on one of its paths is a 405 naming GET, as Auth and Chat answer it; on
      // the metrics port too, which takes HEAD as well (/metrics is not a path of the public
      // port any more: 404 above).
      for (const [base, method, path, allow] of [[gw, 'POST', '/healthz', 'GET'], [gw, 'DELETE', '/readyz', 'GET'], [gw, 'PUT', '/', 'GET'], [s.gateways[0]!.metricsUrl, 'DELETE', '/metrics', 'GET, HEAD']] as const) {
        const res = await fetch(`${base}${path}`, { method });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get('allow'), allow);
        assert.equal(((await res.json()) as any).error.code, 'method_not_allowed');
      }
    });
  });

  describe('key rotation', () => {
    it('verifies a token signed with a key it has not seen through a JWKS refetch, then knows the key', async () => {
      // Auth restarts on the same port with a new signing key, still publishing the old one.
      const oldPublic = createPublicKey(createPrivateKey(s.env.JWT_PRIVATE_KEY!)).export({ type: 'spki', format: 'pem' }).toString();
      await s.restart('auth', 'SIGTERM', { JWT_PRIVATE_KEY: generateSigningKeyPem(), JWT_PREVIOUS_PUBLIC_KEY: oldPublic });
      const login = await request(`${s.auth.url}/login`, { body: { username: alice.username, password: alice.password } });
      assert.equal(login.status, 200);
      const newToken = login.body.token as string;
      assert.notEqual(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid, JSON.parse(Buffer.from(alice.token.split('.')[0]!, 'base64url').toString()).kid);

      const warnings = () => s.gateways[0]!.output().split('must be made from within a corked callback').length - 1;
      const first = await TestClient.connect(gw, newToken); // the fallback path (uWS warns once for it)
      first.send({ type: 'ping' });
      await first.next((f) => f.type === 'pong');
      assert.ok(warnings() >= 1, 'the first connect went through the fallback');
      await sleep(500); // the in-memory verifier reloads the key set in the background
      const before = warnings();
      const second = await TestClient.connect(gw, newToken); // the in-memory path again
      second.send({ type: 'ping' });
      await second.next((f) => f.type === 'pong');
      const old = await TestClient.connect(gw, alice.token); // the previous key still verifies
      for (const c of [first, second, old]) c.close();
      assert.equal(warnings(), before, 'no further fallback: the new key is known now');
    });
  });
});
