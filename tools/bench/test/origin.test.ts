/**
 * The origin of scenario 8 (src/origin/server.ts) against the real MongoDB-wire server and
 * broker: a send is one stored document and one event on its fanout exchange, history reads the
 * pair newest first, and tokens are checked as chat checks them (here against a JWKS this test
 * serves, as Auth would).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { exportJWK, SignJWT } from 'jose';
import { MongoClient } from 'mongodb';
import { stackEnv } from '@chat/testkit';
import { JWT_AUDIENCE, JWT_ISSUER, startOrigin, type Proc } from '../src/stack.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const db = `origin_test_${randomBytes(3).toString('hex')}`;
let jwks: http.Server;
let origin: Proc;
let mongoUrl: string;
let amqpUrl: string;

const token = (sub: string, username: string) =>
  new SignJWT({ username })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);

before(async () => {
  const env = (await stackEnv()).env;
  mongoUrl = env.MONGO_URL!;
  amqpUrl = env.AMQP_URL!;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwks = http.createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  origin = await startOrigin({ mongoUrl, amqpUrl, authUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`, db });
});

after(async () => {
  await origin?.stop();
  jwks?.close();
  const client = new MongoClient(mongoUrl);
  await client.db(db).dropDatabase().catch(() => undefined);
  await client.close();
});

const post = (body: unknown, bearer?: string) =>
  fetch(`${origin.url}/chat/send`, { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify(body) });

test('a send is one stored message and one event on the fanout exchange; history reads the pair newest first', async () => {
  const conn = await amqp.connect(amqpUrl);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'origin.events', '');
  const events: unknown[] = [];
  await ch.consume(queue, (m) => m && events.push(JSON.parse(m.content.toString())), { noAck: true });
  try {
    const alice = await token('id-a', 'alice');
    const bob = await token('id-b', 'bob');
    const r1 = await post({ to: 'bob', text: 'hello bob' }, alice);
    assert.equal(r1.status, 201);
    const m1 = ((await r1.json()) as { message: { id: string; from: string; to: string; text: string } }).message;
    assert.deepEqual([m1.from, m1.to, m1.text], ['alice', 'bob', 'hello bob']);
    assert.equal((await post({ to: 'alice', text: 'hi alice' }, bob)).status, 201);
    assert.equal((await post({ to: 'carol', text: 'not in the pair' }, alice)).status, 201);

    const h = await fetch(`${origin.url}/chat/history?with=bob&limit=10`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(h.status, 200);
    const texts = ((await h.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text);
    assert.deepEqual(texts, ['hi alice', 'hello bob']);

    const client = new MongoClient(mongoUrl);
    assert.equal(await client.db(db).collection('messages').countDocuments(), 3);
    await client.close();
    const deadline = Date.now() + 5_000;
    while (events.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(events.length, 3);
    assert.deepEqual((events[0] as { type: string; message: { id: string } }).message.id, m1.id);
  } finally {
    await conn.close();
  }
});

test('tokens and bodies are checked: no token 401, a token of another key 401, a bad body 400', async () => {
  assert.equal((await post({ to: 'bob', text: 'x' })).status, 401);
  const forged = await new SignJWT({ username: 'alice' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject('id-a')
    .setExpirationTime('10m')
    .sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  assert.equal((await post({ to: 'bob', text: 'x' }, forged)).status, 401);
  const alice = await token('id-a', 'alice');
  assert.equal((await post({ to: 'bob', text: '   ' }, alice)).status, 400);
  assert.equal((await post({ to: { $ne: null }, text: 'x' }, alice)).status, 400);
});
