/**
 * The attack suite (issue 16, "Bad input and attacks"), against one real stack: every case
 * asserts its exact status and error code, that the attacked service still serves a real
 * request afterwards, and that nothing was stored (or, for input a documented rule accepts,
 * exactly what was sent). The cases are tables by area (attack-cases-*.ts); the last test
 * searches every service's log output for every token and password the suite used.
 *
 * Users are registered once, up front, and few (Auth limits registrations per address).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceTokenSource } from '@chat/common/jwt';
import { registerAndLogin, request, startStack, uniqueName, type Stack, type TestUser } from '@chat/testkit';
import { AUTHORIZATION_CASES } from './attack-cases-authorization.ts';
import { BODY_CASES } from './attack-cases-bodies.ts';
import { FIELD_CASES } from './attack-cases-fields.ts';
import { GATEWAY_JWKS_COOLDOWN_MS, JWT_CASES } from './attack-cases-jwt.ts';
import { METHOD_CASES } from './attack-cases-methods.ts';
import { UNICODE_CASES } from './attack-cases-unicode.ts';
import { ALLOWED_ORIGIN, WEBSOCKET_CASES } from './attack-cases-websocket.ts';
import { AREAS, runCase, servicesOf, settledState, type AttackCase, type Fixtures } from './attack-suite.ts';
import { readDoc, section, tableBodies } from './markdown.ts';
import { send } from './support.ts';

export const ATTACK_CASES: AttackCase[] = [...FIELD_CASES, ...BODY_CASES, ...UNICODE_CASES, ...JWT_CASES, ...AUTHORIZATION_CASES, ...WEBSOCKET_CASES, ...METHOD_CASES];

let stack: Stack;
let f: Fixtures;
const baseline = { state: new Map<string, string>() };

before(async () => {
  stack = await startStack({
    // Debug logs: the log scan then searches everything the services can print.
    env: { LOG_LEVEL: 'debug' },
    serviceEnv: { gateway: { JWKS_COOLDOWN_MS: String(GATEWAY_JWKS_COOLDOWN_MS), ALLOWED_ORIGINS: ALLOWED_ORIGIN } },
  });
  const secrets = new Set<string>();
  const secret = <T extends string>(value: T): T => (secrets.add(value), value);
  const user = async (prefix: string): Promise<TestUser> => {
    const u = await registerAndLogin(stack.auth.url, uniqueName(prefix), secret(`pw-${uniqueName(prefix)}-not-for-logs`));
    secret(u.token);
    return u;
  };
  const [alice, bob, carol, mallory] = [await user('alice'), await user('bob'), await user('carol'), await user('mallory')];

  const dmMessage = await send(stack.chat.url, alice, bob.username, 'fixture: a 1:1 message');
  const createGroup = async (name: string, members: string[]) => {
    const res = await request(`${stack.chat.url}/conversations`, { token: alice.token, body: { name, members } });
    assert.equal(res.status, 201, res.text);
    const id: string = res.body.conversation.id;
    const message = await request(`${stack.chat.url}/chat/send`, { token: alice.token, body: { conversationId: id, text: `fixture: into ${name}` } });
    assert.equal(message.status, 201, message.text);
    return { id, messageId: message.body.message.id as string };
  };
  const group = await createGroup('fixture group', [bob.username]);
  const formerGroup = await createGroup('fixture former group', [bob.username, carol.username]);
  const removed = await request(`${stack.chat.url}/conversations/${formerGroup.id}/members/${carol.username}`, { method: 'DELETE', token: alice.token });
  assert.equal(removed.status, 200, removed.text);
  const sync = await request(`${stack.chat.url}/chat/sync?limit=500`, { token: alice.token });
  const serviceToken = secret(await createServiceTokenSource('attack-suite', stack.env.SERVICE_TOKEN_SECRET!)());

  f = {
    stack,
    alice,
    bob,
    carol,
    mallory,
    dm: { id: dmMessage.conversationId, messageId: dmMessage.id },
    group,
    formerGroup,
    aliceCursor: sync.body.cursor,
    serviceToken,
    secret,
    secrets,
  };
  baseline.state = await settledState(stack);
});

after(() => stack?.stop());

test(`the suite has at least 80 cases (${ATTACK_CASES.length}), in every area`, () => {
  assert.ok(ATTACK_CASES.length >= 80);
  const names = ATTACK_CASES.map((c) => `${c.area}: ${c.name}`);
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'case names are unique');
  const counts = Object.fromEntries(AREAS.map((area) => [area, ATTACK_CASES.filter((c) => c.area === area).length]));
  console.log(`# attack cases by area: ${JSON.stringify(counts)}`);
  for (const area of AREAS) assert.ok(counts[area]! > 0, `no case in ${area}`);
});

/** The README's table of cases by area, in the suite's order of areas. */
const README_AREAS: Record<(typeof AREAS)[number], string> = {
  fields: 'Types and NoSQL operators',
  bodies: 'Bodies',
  unicode: 'Unicode',
  jwt: 'JWT',
  authorization: 'Authorization',
  websocket: 'WebSocket',
  methods: 'HTTP methods',
};

test("README: the Attack suite section's counts are the suite's", () => {
  const text = section(readDoc('README.md'), '### Attack suite');
  const rows = tableBodies(text).split('\n').map((line) => line.split('|').map((cell) => cell.trim()));
  assert.deepEqual(
    rows.map((cells) => `${cells[1]}: ${cells[2]}`),
    AREAS.map((area) => `${README_AREAS[area]}: ${ATTACK_CASES.filter((c) => c.area === area).length}`),
  );
  assert.match(text, new RegExp(`runs ${ATTACK_CASES.length} attacks`));
});

for (const area of AREAS) {
  describe(area, () => {
    for (const c of ATTACK_CASES.filter((x) => x.area === area)) {
      test(c.name, () => runCase(f, c, baseline));
    }
  });
}

test('no token or password the suite used appears in any service log', () => {
  assert.ok(f.secrets.size > 50, `only ${f.secrets.size} secrets remembered`);
  console.log(`# log scan: ${f.secrets.size} tokens and passwords searched for in ${servicesOf(stack).length} services' output`);
  for (const svc of servicesOf(stack)) {
    const output = svc.output();
    assert.ok(output.length > 0, `${svc.name} printed nothing`);
    const leaked = [...f.secrets].filter((s) => output.includes(s));
    assert.deepEqual(leaked.map((s) => `${s.slice(0, 12)}…`), [], `${svc.name} logged ${leaked.length} secrets`);
  }
});
