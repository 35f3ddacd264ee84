/**
 * The in-memory verifier must accept and refuse exactly what the shared jose-based verifier
 * does. Both run against the same JWKS (served over real HTTP) and the same tokens.
 */
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as signWith, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { RequestError } from '@chat/common/contracts';
import { createLogger } from '@chat/common/config';
import { createJwtVerifier, type TokenUser } from '@chat/common/jwt';
import { createInMemoryTokenVerifier } from './in-memory-token-verifier.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function es256(header: object, claims: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${signWith('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('in-memory token verifier agrees with the shared verifier', () => {
  const current = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let kid = '';
  let publicJwk: Record<string, unknown> = {};
  let server: Server;
  let jwksUrl = '';
  let jwksDown = false;
  let jwksFetches = 0;

  before(async () => {
    publicJwk = (await exportJWK(current.publicKey)) as Record<string, unknown>;
    kid = await calculateJwkThumbprint(publicJwk as never, 'sha256');
    const body = JSON.stringify({ keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] });
    server = createServer((_req, res) => {
      jwksFetches++;
      if (jwksDown) res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    jwksUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/jwks.json`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const now = () => Math.floor(Date.now() / 1000);
  const good = () => ({ iss: 'chat-auth', aud: 'chat', sub: 'user-1', username: 'alice', iat: now(), exp: now() + 600 });
  const header = () => ({ alg: 'ES256', kid, typ: 'JWT' });

  const cases: [string, () => string, boolean][] = [
    ['a valid token', () => es256(header(), good(), current.privateKey), true],
    ['aud as an array containing ours', () => es256(header(), { ...good(), aud: ['x', 'chat'] }, current.privateKey), true],
    ['exp 10 s ago (inside the clock tolerance)', () => es256(header(), { ...good(), exp: now() - 10 }, current.privateKey), true],
    ['exp 60 s ago', () => es256(header(), { ...good(), exp: now() - 60 }, current.privateKey), false],
    ['no exp', () => es256(header(), { ...good(), exp: undefined }, current.privateKey), false],
    ['a string exp', () => es256(header(), { ...good(), exp: String(now() + 600) }, current.privateKey), false],
    ['no sub', () => es256(header(), { ...good(), sub: undefined }, current.privateKey), false],
    ['a numeric sub', () => es256(header(), { ...good(), sub: 42 }, current.privateKey), false],
    ['no username', () => es256(header(), { ...good(), username: undefined }, current.privateKey), false],
    ['wrong iss', () => es256(header(), { ...good(), iss: 'evil' }, current.privateKey), false],
    ['wrong aud', () => es256(header(), { ...good(), aud: 'other' }, current.privateKey), false],
    ['no aud', () => es256(header(), { ...good(), aud: undefined }, current.privateKey), false],
    ['nbf in the future', () => es256(header(), { ...good(), nbf: now() + 300 }, current.privateKey), false],
    ['signed by another key under our kid', () => es256(header(), good(), other.privateKey), false],
    ['a tampered payload', () => {
      const [h, , s] = es256(header(), good(), current.privateKey).split('.');
      return `${h}.${b64({ ...good(), sub: 'admin' })}.${s}`;
    }, false],
    ['alg none', () => `${b64({ alg: 'none', kid })}.${b64(good())}.`, false],
    ['alg none with a signature', () => `${b64({ alg: 'none', kid })}.${b64(good())}.${b64('x')}`, false],
    ['HS256 keyed with the public JWK', () => {
      const input = `${b64({ alg: 'HS256', kid })}.${b64(good())}`;
      return `${input}.${createHmac('sha256', JSON.stringify(publicJwk)).update(input).digest('base64url')}`;
    }, false],
    ['typ "JWT" in other spellings', () => es256({ ...header(), typ: 'application/JWT' }, good(), current.privateKey), true],
    ['no typ', () => es256({ alg: 'ES256', kid }, good(), current.privateKey), true],
    ['a typ made for something else', () => es256({ ...header(), typ: 'at+jwt' }, good(), current.privateKey), false],
    ['an unknown critical header', () => es256({ ...header(), crit: ['exp'] }, good(), current.privateKey), false],
    ['two parts', () => es256(header(), good(), current.privateKey).split('.').slice(0, 2).join('.'), false],
    ['garbage', () => 'not.a.token', false],
  ];

  it('every case', async () => {
    const shared = createJwtVerifier({ jwksUrl, issuer: 'chat-auth', audience: 'chat', cooldownMs: 0 });
    const inMemory = createInMemoryTokenVerifier({ jwksUrl, issuer: 'chat-auth', audience: 'chat', logger, cooldownMs: 0 });
    await inMemory.refresh(true);
    assert.equal(inMemory.keyCount, 1);
    for (const [name, make, accepted] of cases) {
      const token = make();
      const viaShared = await shared(token).then(
        (u): TokenUser | RequestError => u,
        (e: unknown) => e as RequestError,
      );
      let viaInMemory: TokenUser | RequestError | undefined;
      try {
        viaInMemory = inMemory.verify(token);
      } catch (e) {
        viaInMemory = e as RequestError;
      }
      if (accepted) {
        assert.ok(!(viaShared instanceof Error), `${name}: shared refused: ${(viaShared as Error).message}`);
        assert.deepEqual(viaInMemory, viaShared, name);
      } else {
        assert.ok(viaShared instanceof RequestError && viaShared.status === 401, `${name}: shared accepted`);
        assert.ok(viaInMemory instanceof RequestError && viaInMemory.status === 401, `${name}: in-memory gave ${JSON.stringify(viaInMemory)}`);
      }
    }
  });

  it('answers undefined for a key it does not know, so the caller falls back', async () => {
    const inMemory = createInMemoryTokenVerifier({ jwksUrl, issuer: 'chat-auth', audience: 'chat', logger, cooldownMs: 0 });
    assert.equal(inMemory.verify(es256(header(), good(), current.privateKey)), undefined, 'nothing loaded yet');
    await inMemory.refresh(true);
    assert.equal(inMemory.verify(es256({ ...header(), kid: 'rotated' }, good(), other.privateKey)), undefined);
    assert.equal(inMemory.verify(es256(header(), good(), current.privateKey))?.id, 'user-1');
  });

  it('keeps its keys when a later JWKS fetch fails', async () => {
    const inMemory = createInMemoryTokenVerifier({ jwksUrl, issuer: 'chat-auth', audience: 'chat', logger, cooldownMs: 0 });
    await inMemory.refresh(true);
    jwksDown = true;
    try {
      await inMemory.refresh(true);
      assert.equal(inMemory.keyCount, 1);
      assert.equal(inMemory.verify(es256(header(), good(), current.privateKey))?.id, 'user-1');
    } finally {
      jwksDown = false;
    }
  });

  it('verifyOrFetch: a burst of tokens under unknown kids fetches the key set once per cooldown, into the one cache', async () => {
    const inMemory = createInMemoryTokenVerifier({ jwksUrl, issuer: 'chat-auth', audience: 'chat', logger, cooldownMs: 60_000 });
    const before = jwksFetches;
    // Not loaded yet: the first token fetches, and the valid one is then known.
    assert.equal((await inMemory.verifyOrFetch(es256(header(), good(), current.privateKey))).id, 'user-1');
    const unknown = () => es256({ ...header(), kid: `random-${Math.random()}` }, good(), other.privateKey);
    const refusals = await Promise.all(Array.from({ length: 50 }, () => inMemory.verifyOrFetch(unknown()).then(() => undefined, (e: unknown) => e as RequestError)));
    for (let i = 0; i < 20; i++) refusals.push(await inMemory.verifyOrFetch(unknown()).then(() => undefined, (e: unknown) => e as RequestError));
    assert.ok(refusals.every((e) => e instanceof RequestError && e.status === 401 && e.message === 'token signed by an unknown key'));
    assert.equal(jwksFetches - before, 1, 'one fetch for the whole burst inside one cooldown');
  });

  it('verifyOrFetch: a key set that cannot be fetched is a 503, not a 401', async () => {
    const inMemory = createInMemoryTokenVerifier({ jwksUrl, issuer: 'chat-auth', audience: 'chat', logger, cooldownMs: 0 });
    jwksDown = true;
    try {
      await assert.rejects(inMemory.verifyOrFetch(es256(header(), good(), current.privateKey)), (e: unknown) => e instanceof RequestError && e.status === 503);
    } finally {
      jwksDown = false;
    }
  });
});
