import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcrypt';
import { createPasswordHasher, DEFAULT_BCRYPT_COST, prehashPassword } from './passwords.js';

const hasher = createPasswordHasher({ cost: 4 });

test('the default bcrypt cost is 12', async () => {
  assert.equal(DEFAULT_BCRYPT_COST, 12);
  const defaults = createPasswordHasher();
  assert.equal(defaults.cost, 12);
  const hash = await defaults.hash('correct horse battery');
  assert.match(hash, /^\$2b\$12\$/);
  assert.equal(await defaults.verify('correct horse battery', hash), true);
});

test('the configured cost is used', async () => {
  assert.match(await hasher.hash('password123'), /^\$2b\$04\$/);
});

test('no 72-byte truncation: passwords sharing their first 72 bytes do not match each other', async () => {
  const prefix = 'p'.repeat(72);
  const a = `${prefix}-first`;
  const b = `${prefix}-second`;
  // The hazard is real: plain bcrypt accepts b for a hash of a.
  assert.equal(await bcrypt.compare(b, await bcrypt.hash(a, 4)), true);
  const hash = await hasher.hash(a);
  assert.equal(await hasher.verify(a, hash), true);
  assert.equal(await hasher.verify(b, hash), false);
});

test('no truncation for multi-byte text either (72 bytes = 24 three-byte characters)', async () => {
  const prefix = '語'.repeat(24);
  const hash = await hasher.hash(`${prefix}一`);
  assert.equal(await hasher.verify(`${prefix}一`, hash), true);
  assert.equal(await hasher.verify(`${prefix}二`, hash), false);
});

test('the pre-hash is fixed-length base64 with no NUL byte (bcrypt stops at NUL)', () => {
  for (const pw of ['password', 'x'.repeat(256), '\u0000\u0000\u0000\u0000abcd', '😀'.repeat(256)]) {
    const ph = prehashPassword(pw);
    assert.equal(ph.length, 44);
    assert.match(ph, /^[A-Za-z0-9+/]{43}=$/);
  }
  assert.notEqual(prehashPassword('\u0000a'), prehashPassword('\u0000b'));
});

test('composed and decomposed forms of the same text are the same password (NFC)', async () => {
  const hash = await hasher.hash('caf\u00e9-password');
  assert.equal(await hasher.verify('cafe\u0301-password', hash), true);
});

test('a password with an unpaired surrogate never matches, even the U+FFFD it would encode as', async () => {
  const hash = await hasher.hash('abcdefg\ufffd');
  assert.equal(await hasher.verify('abcdefg\ud800', hash), false);
  assert.equal(await hasher.verify('abcdefg\ufffd', hash), true);
});

test('the dummy comparison returns false and costs about as much as a real one', async () => {
  const h12 = createPasswordHasher({ cost: 10 });
  const hash = await h12.hash('password123');
  await h12.verifyAgainstDummy('warm-up');
  const time = async (fn: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const real = await time(() => h12.verify('wrong-password', hash));
  const dummy = await time(() => h12.verifyAgainstDummy('wrong-password'));
  assert.equal(await h12.verifyAgainstDummy('password123'), false);
  assert.ok(dummy > real / 3 && dummy < real * 3, `dummy ${dummy.toFixed(1)} ms vs real ${real.toFixed(1)} ms`);
});

test('a hash made with another cost is flagged for rehash', async () => {
  assert.equal(hasher.needsRehash(await hasher.hash('password123')), false);
  assert.equal(hasher.needsRehash(await createPasswordHasher({ cost: 5 }).hash('password123')), true);
  assert.equal(hasher.needsRehash('not a bcrypt hash'), false);
});
