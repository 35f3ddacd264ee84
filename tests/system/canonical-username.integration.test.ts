/**
 * One canonical username in every service (@chat/common's username.ts): a look-alike that
 * Unicode folding would turn into a registered ASCII name is refused by Auth and Chat alike,
 * never resolved to that user. Chat once lowercased `to` with toLowerCase(), so "\u212Aelvin"
 * (a Kelvin sign) reached the user kelvin while Auth answered 404 for the same string.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServiceTokenSource } from '@chat/common/jwt';
import { randomBytes } from 'node:crypto';
import { registerAndLogin, request, startStack, type Stack, type TestUser } from '@chat/testkit';

/** Each look-alike with the ASCII name that toLowerCase(), NFC or NFKC folds it onto (or hides). */
const suffix = randomBytes(3).toString('hex');
const CASES: Array<{ ascii: string; lookAlike: string; what: string }> = [
  { ascii: `kelvin_${suffix}`, lookAlike: `\u212Aelvin_${suffix}`, what: 'KELVIN SIGN (toLowerCase: "k")' },
  { ascii: `fw_${suffix}`, lookAlike: `\uFF46\uFF57_${suffix}`, what: 'fullwidth letters (NFKC: "fw")' },
  { ascii: `istanbul_${suffix}`, lookAlike: `\u0130stanbul_${suffix}`, what: 'Turkish capital I with dot (toLowerCase: "i" + U+0307)' },
  { ascii: `ismail_${suffix}`, lookAlike: `\u0131smail_${suffix}`, what: 'Turkish dotless i (toUpperCase: "I")' },
  { ascii: `emile_${suffix}`, lookAlike: `e\u0301mile_${suffix}`, what: 'combining acute accent' },
  { ascii: `zw_${suffix}`, lookAlike: `z\u200Bw_${suffix}`, what: 'zero-width space' },
];

describe('one canonical username across Auth and Chat', () => {
  let s: Stack;
  let alice: TestUser;
  const owners = new Map<string, TestUser>();

  before(async () => {
    s = await startStack({ services: ['auth', 'chat'] });
    alice = await s.user('alice');
    for (const c of CASES) owners.set(c.ascii, await registerAndLogin(s.auth.url, c.ascii));
  });
  after(() => s?.stop());

  const chat = (path: string, opts: { method?: string; body?: unknown } = {}) => request(`${s.chat.url}${path}`, { ...opts, token: alice.token });
  const isRuleRefusal = (res: { status: number; body: any; text: string }, what: string) => {
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assert.equal(res.body.error.code, 'invalid_request', what);
    assert.match(res.body.error.message, /may contain only the ASCII letters/, what);
  };

  it('Auth refuses to register a look-alike, answers login as for an unknown name, and lookup 404', async () => {
    const unknownLogin = await request(`${s.auth.url}/login`, { body: { username: `nobody_${suffix}`, password: 'correct horse battery' } });
    const service = createServiceTokenSource('chat', s.env.SERVICE_TOKEN_SECRET!);
    for (const { ascii, lookAlike, what } of CASES) {
      isRuleRefusal(await request(`${s.auth.url}/register`, { body: { username: lookAlike, password: 'correct horse battery' } }), `register ${what}`);
      // The registered user's own password does not log the look-alike in.
      const login = await request(`${s.auth.url}/login`, { body: { username: lookAlike, password: 'correct horse battery' } });
      assert.equal(login.status, 401, what);
      assert.equal(login.text, unknownLogin.text, what);
      const lookup = await request(`${s.auth.url}/users/${encodeURIComponent(lookAlike)}`, { token: await service() });
      assert.equal(lookup.status, 404, what);
      assert.equal(lookup.body.error.code, 'user_not_found', what);
      // ASCII letter case is the one thing folded.
      const upper = await request(`${s.auth.url}/users/${ascii.toUpperCase()}`, { token: await service() });
      assert.equal(upper.status, 200, what);
      assert.equal(upper.body.username, ascii);
    }
  });

  it('Chat refuses a look-alike wherever a username comes in, before any lookup, and delivers to the ASCII name in any case', async () => {
    const group = await chat('/conversations', { body: { name: 'names', members: [CASES[0]!.ascii] } });
    assert.equal(group.status, 201, group.text);
    const groupId = group.body.conversation.id as string;
    for (const { ascii, lookAlike, what } of CASES) {
      isRuleRefusal(await chat('/chat/send', { body: { to: lookAlike, text: 'hi' } }), `send ${what}`);
      isRuleRefusal(await chat(`/chat/history?with=${encodeURIComponent(lookAlike)}`), `history ${what}`);
      isRuleRefusal(await chat('/conversations', { body: { name: 'g', members: [lookAlike] } }), `create group ${what}`);
      isRuleRefusal(await chat(`/conversations/${groupId}/members`, { body: { members: [lookAlike] } }), `add member ${what}`);
      isRuleRefusal(await chat(`/conversations/${groupId}/members/${encodeURIComponent(lookAlike)}`, { method: 'DELETE' }), `remove member ${what}`);
      isRuleRefusal(await chat(`/presence?users=${encodeURIComponent(lookAlike)}`), `presence ${what}`);
      const sent = await chat('/chat/send', { body: { to: ascii.toUpperCase(), text: `hello ${what}` } });
      assert.equal(sent.status, 201, `${what}: ${sent.text}`);
      assert.equal(sent.body.message.to, ascii);
    }
    // Nothing reached the owners of the ASCII names but the messages sent to them by their own names.
    const history = await request(`${s.chat.url}/chat/history?with=${alice.username}`, { token: owners.get(CASES[0]!.ascii)!.token });
    assert.deepEqual(history.body.messages.map((m: { text: string }) => m.text), [`hello ${CASES[0]!.what}`]);
  });
});
