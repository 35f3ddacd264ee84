/**
 * The JWT matrix on all three services: every forged or misdirected token on a route of each
 * (Auth's user lookup, Chat's send, the gateway's upgrade) is a 401 before anything is read or
 * stored; a user token where only a service token goes is a 403. The unknown-kid flood is
 * measured on Auth's real JWKS endpoint: each service fetches the key set at most once per
 * cooldown, however many tokens name unknown kids (black-box finding 4).
 */
import assert from 'node:assert/strict';
import { request, sleep } from '@chat/testkit';
import { metricsOf } from './attack-metrics.ts';
import { outcomeOf, type AttackCase, type Fixtures, type Outcome } from './attack-suite.ts';
import { FORGED_USER_TOKENS, realKey, unknownKidToken, type RealKey } from './attack-tokens.ts';
import { upgrade } from './attack-upgrade.ts';

const unauthorized = { status: 401, code: 'unauthorized' };

let key: RealKey | undefined;
const keyOf = async (f: Fixtures) => (key ??= await realKey(f.stack));

/** Presents `token` to one service, on a route that would read or store something. */
const ATTACKED: Record<'auth' | 'chat' | 'gateway', (f: Fixtures, token: string) => Promise<Outcome>> = {
  auth: async (f, token) => outcomeOf(await request(`${f.stack.auth.url}/users/${f.bob.username}`, { token })),
  chat: async (f, token) => outcomeOf(await request(`${f.stack.chat.url}/chat/send`, { token, body: { to: f.bob.username, text: 'sent with a forged token' } })),
  gateway: (f, token) => upgrade(f.stack.gateway.url, { query: new URLSearchParams({ token }).toString() }),
};

/** Requests Auth answered on its JWKS route so far (every fetch any verifier made). */
async function jwksFetches(f: Fixtures): Promise<number> {
  return metricsOf(f.stack.auth).value('http_request_duration_seconds_count', { route: '/.well-known/jwks.json' });
}

/** The gateway's JWKS cooldown in this suite's stack (attacks.test.ts sets it). */
export const GATEWAY_JWKS_COOLDOWN_MS = 4_000;

function floodCase(service: 'chat' | 'gateway', tokens: number, expectFetches: (n: number) => void): AttackCase {
  return {
    area: 'jwt',
    name: `${service}: ${tokens} tokens under random kids fetch the JWKS at most once per cooldown`,
    service,
    expect: unauthorized,
    async send(f) {
      // Past any earlier fetch's cooldown, so this burst may cause exactly one.
      if (service === 'gateway') await sleep(GATEWAY_JWKS_COOLDOWN_MS + 200);
      const before = await jwksFetches(f);
      const started = Date.now();
      const outcomes: Outcome[] = [];
      // Half at once, half trickling in over the next second: both inside one cooldown.
      outcomes.push(...(await Promise.all(Array.from({ length: tokens / 2 }, () => ATTACKED[service](f, f.secret(unknownKidToken(f.mallory)))))));
      for (let i = 0; i < tokens / 2; i++) {
        outcomes.push(await ATTACKED[service](f, f.secret(unknownKidToken(f.mallory))));
        await sleep(1_000 / tokens);
      }
      assert.ok(Date.now() - started < GATEWAY_JWKS_COOLDOWN_MS, 'the burst fits in one cooldown');
      const fetched = (await jwksFetches(f)) - before;
      expectFetches(fetched);
      const distinct = new Set(outcomes.map((o) => `${o.status} ${o.code}`));
      assert.deepEqual([...distinct], ['401 unauthorized']);
      return outcomes[0]!;
    },
  };
}

export const JWT_CASES: AttackCase[] = [
  ...(['auth', 'chat', 'gateway'] as const).flatMap((service) =>
    FORGED_USER_TOKENS.map(([name, make]): AttackCase => ({
      area: 'jwt',
      name: `${service}: ${name}`,
      service,
      expect: unauthorized,
      async send(f) {
        return ATTACKED[service](f, f.secret(make(await keyOf(f), f.mallory)));
      },
    })),
  ),
  ...(['chat', 'gateway'] as const).map(
    (service): AttackCase => ({
      area: 'jwt',
      name: `${service}: a real service token where a user token is required`,
      service,
      expect: unauthorized,
      send: (f) => ATTACKED[service](f, f.serviceToken),
    }),
  ),
  ...['/internal/contacts', '/internal/conversations/:id/members'].map(
    (route): AttackCase => ({
      area: 'jwt',
      name: `chat: a real user token where a service token is required (${route})`,
      service: 'chat',
      expect: { status: 403, code: 'forbidden' },
      async send(f) {
        const res =
          route === '/internal/contacts'
            ? await request(`${f.stack.chat.url}/internal/contacts`, { token: f.mallory.token, body: { userIds: [f.alice.id] } })
            : await request(`${f.stack.chat.url}/internal/conversations/${f.group.id}/members`, { token: f.mallory.token });
        return outcomeOf(res);
      },
    }),
  ),
  // The gateway's cooldown is set short for the test (so the burst can be placed after one);
  // Chat's verifier uses the default 30 s.
  floodCase('gateway', 60, (n) => assert.equal(n, 1, `the gateway fetched the JWKS ${n} times for one burst inside one cooldown`)),
  floodCase('chat', 60, (n) => assert.ok(n <= 1, `chat fetched the JWKS ${n} times for one burst inside one cooldown`)),
];
