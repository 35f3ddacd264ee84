/**
 * Unicode in every text a user chooses: usernames, group names, message text. Each input is
 * accepted or refused by a documented rule (README "Attack suite", and the service READMEs),
 * never a 500:
 * - usernames are ASCII by rule (`^[A-Za-z0-9_.-]{3,32}$`), so every other character is refused;
 * - texts and group names are stored exactly as sent (group names trimmed of Unicode
 *   White_Space), control characters, bidi overrides and zero-width characters included;
 *   clients escape what they display;
 * - refused everywhere: U+0000 (not every database we run on stores it), an unpaired surrogate
 *   (not Unicode), and a blank text: only White_Space or Default_Ignorable_Code_Point
 *   characters, which would show as nothing;
 * - lengths are counted in code points: exactly at the limit is accepted, one past refused.
 * An accepted case checks that exactly what was sent was stored.
 */
import assert from 'node:assert/strict';
import { request } from '@chat/testkit';
import { outcomeOf, type AttackCase, type Fixtures, type Outcome } from './attack-suite.ts';

const invalid = { status: 400, code: 'invalid_request' };

function register(name: string, username: string, expect: AttackCase['expect'], stored?: AttackCase['stored']): AttackCase {
  return {
    area: 'unicode',
    name: `username ${name}`,
    service: 'auth',
    expect,
    stored,
    async send(f) {
      return outcomeOf(await request(`${f.stack.auth.url}/register`, { body: { username, password: f.secret('a-password-never-logged-3') } }));
    },
  };
}

/** A message from Alice to Bob; accepted ones must come back from history exactly as sent. */
function text(name: string, value: string, expect: AttackCase['expect']): AttackCase {
  return {
    area: 'unicode',
    name: `message text ${name}`,
    service: 'chat',
    expect,
    stored: expect.status === 201 ? (f, outcome) => storedText(f, outcome, value) : undefined,
    async send(f) {
      return outcomeOf(await request(`${f.stack.chat.url}/chat/send`, { token: f.alice.token, body: { to: f.bob.username, text: value } }));
    },
  };
}

async function storedText(f: Fixtures, outcome: Outcome, value: string): Promise<void> {
  const sent = (outcome.body as { message: { id: string; text: string } }).message;
  assert.equal(sent.text, value, 'the 201 shows the text as sent');
  const history = await request(`${f.stack.chat.url}/chat/history?with=${f.alice.username}&limit=1`, { token: f.bob.token });
  assert.equal(history.body.messages[0].id, sent.id);
  assert.equal(history.body.messages[0].text, value, 'the stored text is the text sent');
}

/** A group Alice creates with Bob; accepted ones must store the name as the rule says. */
function groupName(name: string, value: string, expect: AttackCase['expect'], storedAs = value): AttackCase {
  return {
    area: 'unicode',
    name: `group name ${name}`,
    service: 'chat',
    expect,
    stored:
      expect.status === 201
        ? async (f, outcome) => {
            const created = (outcome.body as { conversation: { id: string; name: string } }).conversation;
            assert.equal(created.name, storedAs);
            const read = await request(`${f.stack.chat.url}/conversations/${created.id}`, { token: f.bob.token });
            assert.equal(read.body.conversation.name, storedAs, 'the stored name');
          }
        : undefined,
    async send(f) {
      return outcomeOf(await request(`${f.stack.chat.url}/conversations`, { token: f.alice.token, body: { name: value, members: [f.bob.username] } }));
    },
  };
}

const created = { status: 201 };
const LONE_SURROGATE = '\ud800';
const RTL_OVERRIDE = '\u202e';
const ZERO_WIDTH_SPACE = '\u200b';

export const UNICODE_CASES: AttackCase[] = [
  register('with a control character', 'ab\u0001cd', invalid),
  register('with NUL', 'abcd\u0000', invalid),
  register('with an RTL override', `ab${RTL_OVERRIDE}cd`, invalid),
  register('with a zero-width space', `ab${ZERO_WIDTH_SPACE}cd`, invalid),
  register('with a lone surrogate', `ab${LONE_SURROGATE}cd`, invalid),
  register('with a Kelvin sign (lowercases to ASCII k)', '\u212Aelvin_u', invalid),
  register('in fullwidth letters', '\uff41\uff42\uff43\uff44', invalid),
  register('of 33 characters', `u${'x'.repeat(32)}`, invalid),
  register('of exactly 32 characters', `u${Date.now().toString(36)}`.padEnd(32, 'x'), created, async (f, outcome) => {
    const body = outcome.body as { id: string; username: string };
    assert.equal(body.username.length, 32);
    const found = await request(`${f.stack.auth.url}/users/${body.username}`, { token: f.alice.token });
    assert.equal(found.body.id, body.id);
  }),
  text('with control characters and an ANSI escape (stored as sent)', 'bell\u0007 \u001b[31mred\u001b[0m', created),
  text('with an RTL override (stored as sent)', `abc${RTL_OVERRIDE}def`, created),
  text('with zero-width characters inside (stored as sent)', `a${ZERO_WIDTH_SPACE}b\u200dc`, created),
  text('with NUL', 'a\u0000b', invalid),
  text('with a lone surrogate', `a${LONE_SURROGATE}b`, invalid),
  text('made only of U+0085 NEXT LINE', '\u0085\u0085', invalid),
  text('made only of Unicode White_Space', '\u2028\u3000\u00a0\t\u1680', invalid),
  text('made only of zero-width characters', `${ZERO_WIDTH_SPACE}\u200c\u200d\u2060\ufeff`, invalid),
  text('made only of bidi overrides', `${RTL_OVERRIDE}\u202d\u2066`, invalid),
  text('made only of Hangul fillers', '\u3164\u3164', invalid),
  text('of exactly 4,000 characters', 'x'.repeat(4000), created),
  text('of 4,001 characters', 'x'.repeat(4001), invalid),
  text('of exactly 4,000 emoji (8,000 UTF-16 units)', '😀'.repeat(4000), created),
  text('of 4,001 emoji', '😀'.repeat(4001), invalid),
  groupName('with control characters (stored as sent)', 'team\u0007\u001b[1m', created),
  groupName('with an RTL override (stored as sent)', `${RTL_OVERRIDE}maet`, created),
  groupName('padded with U+0085 and U+3000 (trimmed)', '\u0085\u3000team\u0085', created, 'team'),
  groupName('with NUL', 'te\u0000am', invalid),
  groupName('with a lone surrogate', `team${LONE_SURROGATE}`, invalid),
  groupName('made only of U+0085', '\u0085', invalid),
  groupName('made only of zero-width characters', `${ZERO_WIDTH_SPACE}${ZERO_WIDTH_SPACE}`, invalid),
  groupName('of exactly 100 characters', 'n'.repeat(100), created),
  groupName('of 101 characters', 'n'.repeat(101), invalid),
  {
    area: 'unicode',
    name: 'recipient with a lone surrogate',
    service: 'chat',
    expect: invalid,
    async send(f) {
      return outcomeOf(await request(`${f.stack.chat.url}/chat/send`, { token: f.alice.token, body: { to: `bob${LONE_SURROGATE}`, text: 'hi' } }));
    },
  },
  {
    area: 'unicode',
    name: 'recipient with an RTL override (outside the username rule)',
    service: 'chat',
    expect: invalid,
    async send(f) {
      return outcomeOf(await request(`${f.stack.chat.url}/chat/send`, { token: f.alice.token, body: { to: `${RTL_OVERRIDE}${f.bob.username}`, text: 'hi' } }));
    },
  },
  {
    area: 'unicode',
    name: 'clientMsgId with NUL',
    service: 'chat',
    expect: invalid,
    async send(f) {
      return outcomeOf(await request(`${f.stack.chat.url}/chat/send`, { token: f.alice.token, body: { to: f.bob.username, text: 'hi', clientMsgId: 'id\u0000' } }));
    },
  },
];
