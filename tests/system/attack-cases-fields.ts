/**
 * Wrong types and NoSQL operators in every field of every JSON body, in every query parameter
 * and in every path parameter, generated from one table of fields per route: a field added to a route later is
 * covered by adding it to that route's row. Every variant must be a 4xx (or, for an optional
 * query parameter that the variant leaves absent, the ordinary answer) and never reach a query.
 */
import { request, uniqueName } from '@chat/testkit';
import { outcomeOf, type AttackCase, type Fixtures, type Outcome } from './attack-suite.ts';

type Service = 'auth' | 'chat';

interface BodyRoute {
  route: string;
  service: Service;
  method: 'POST' | 'PATCH';
  path(f: Fixtures): string;
  token(f: Fixtures): string | undefined;
  /** A body the route accepts (or would, but for the one field a case breaks). */
  body(f: Fixtures): Record<string, unknown>;
  /** The fields, by the kind of value they take. */
  strings: string[];
  arrays?: string[];
}

/** Every JSON body of every service. */
export const BODY_ROUTES: BodyRoute[] = [
  {
    route: 'POST /register',
    service: 'auth',
    method: 'POST',
    path: () => '/register',
    token: () => undefined,
    body: (f) => ({ username: uniqueName('reg'), password: f.secret('a-password-never-logged-1') }),
    strings: ['username', 'password'],
  },
  {
    route: 'POST /login',
    service: 'auth',
    method: 'POST',
    path: () => '/login',
    token: () => undefined,
    body: (f) => ({ username: f.alice.username, password: f.alice.password }),
    strings: ['username', 'password'],
  },
  {
    route: 'POST /chat/send (to)',
    service: 'chat',
    method: 'POST',
    path: () => '/chat/send',
    token: (f) => f.alice.token,
    body: (f) => ({ to: f.bob.username, text: 'hello', clientMsgId: uniqueName('c') }),
    strings: ['to', 'text', 'clientMsgId'],
  },
  {
    route: 'POST /chat/send (conversationId)',
    service: 'chat',
    method: 'POST',
    path: () => '/chat/send',
    token: (f) => f.alice.token,
    body: (f) => ({ conversationId: f.group.id, text: 'hello group' }),
    strings: ['conversationId'],
  },
  {
    route: 'POST /conversations',
    service: 'chat',
    method: 'POST',
    path: () => '/conversations',
    token: (f) => f.alice.token,
    body: (f) => ({ name: 'a new group', members: [f.bob.username] }),
    strings: ['name'],
    arrays: ['members'],
  },
  {
    route: 'PATCH /conversations/:id',
    service: 'chat',
    method: 'PATCH',
    path: (f) => `/conversations/${f.group.id}`,
    token: (f) => f.alice.token,
    body: () => ({ name: 'renamed' }),
    strings: ['name'],
  },
  {
    route: 'POST /conversations/:id/members',
    service: 'chat',
    method: 'POST',
    path: (f) => `/conversations/${f.group.id}/members`,
    token: (f) => f.alice.token,
    body: (f) => ({ members: [f.carol.username] }),
    strings: [],
    arrays: ['members'],
  },
  {
    route: 'PATCH /conversations/:id/members/:username',
    service: 'chat',
    method: 'PATCH',
    path: (f) => `/conversations/${f.group.id}/members/${f.bob.username}`,
    token: (f) => f.alice.token,
    body: () => ({ role: 'admin' }),
    strings: ['role'],
  },
  {
    route: 'POST /conversations/:id/read',
    service: 'chat',
    method: 'POST',
    path: (f) => `/conversations/${f.group.id}/read`,
    token: (f) => f.bob.token,
    body: (f) => ({ messageId: f.group.messageId }),
    strings: ['messageId'],
  },
  {
    route: 'POST /internal/contacts',
    service: 'chat',
    method: 'POST',
    path: () => '/internal/contacts',
    token: (f) => f.serviceToken,
    body: (f) => ({ userIds: [f.alice.id] }),
    strings: [],
    arrays: ['userIds'],
  },
];

/** What goes where a string belongs: operators, an array, other types. */
const STRING_VARIANTS: [string, (valid: unknown) => unknown][] = [
  ['{"$ne":null}', () => ({ $ne: null })],
  ['{"$gt":""}', () => ({ $gt: '' })],
  ['{"$regex":".*"}', () => ({ $regex: '.*' })],
  ['{"$where":"sleep(5000)"}', () => ({ $where: 'sleep(5000) || true' })],
  ['an array holding the valid string', (valid) => [valid]],
  ['a number', () => 42],
  ['a boolean', () => true],
];

/** What goes where an array of strings belongs. */
const ARRAY_VARIANTS: [string, (valid: unknown) => unknown][] = [
  ['{"$ne":null}', () => ({ $ne: null })],
  ['a string', (valid) => (valid as unknown[])[0]],
  ['an operator as an element', () => [{ $gt: '' }]],
  ['a number as an element', () => [42]],
];

interface QueryRoute {
  route: string;
  path: string;
  /**
   * `wrong`: what a value of the right shape that names nothing answers; `notAUsername`: what an
   * operator's JSON as text answers where the parameter is a username (refused by the username
   * rule before any lookup), when that differs.
   */
  params: Record<string, { valid(f: Fixtures): string; absent: Outcome; wrong: Outcome; notAUsername?: Outcome }>;
  /** Which parameters a valid request carries besides the one a case breaks (default: none). */
  required?: string[];
}

const ok: Outcome = { status: 200 };
const invalid: Outcome = { status: 400, code: 'invalid_request' };

/** Every query parameter of every GET route that takes one. */
export const QUERY_ROUTES: QueryRoute[] = [
  {
    route: 'GET /chat/history?with=',
    path: '/chat/history',
    params: { with: { valid: (f) => f.bob.username, absent: invalid, wrong: { status: 404, code: 'user_not_found' }, notAUsername: invalid } },
  },
  {
    route: 'GET /chat/history?conversation=',
    path: '/chat/history',
    required: ['conversation'],
    params: {
      conversation: { valid: (f) => f.group.id, absent: invalid, wrong: { status: 404, code: 'conversation_not_found' } },
      limit: { valid: () => '10', absent: ok, wrong: invalid },
      before: { valid: (f) => f.aliceCursor, absent: ok, wrong: invalid },
    },
  },
  {
    route: 'GET /chat/sync',
    path: '/chat/sync',
    params: {
      after: { valid: (f) => f.aliceCursor, absent: ok, wrong: invalid },
      limit: { valid: () => '10', absent: ok, wrong: invalid },
    },
  },
  {
    route: 'GET /conversations',
    path: '/conversations',
    params: {
      limit: { valid: () => '10', absent: ok, wrong: invalid },
      before: { valid: () => Buffer.from('l1:1:g:000000000000000000000000').toString('base64url'), absent: ok, wrong: invalid },
    },
  },
  {
    route: 'GET /presence',
    path: '/presence',
    // A name nobody has is `unknown`, like any non-contact: the answer reveals nothing. A value
    // outside the username rule is refused, as everywhere a username comes in.
    params: { users: { valid: (f) => f.bob.username, absent: invalid, wrong: ok, notAUsername: invalid } },
  },
];

function bodyCase(r: BodyRoute, field: string, variant: string, make: (valid: unknown) => unknown): AttackCase {
  return {
    area: 'fields',
    name: `${r.route}: ${field} = ${variant}`,
    service: r.service,
    expect: { status: 400, code: 'invalid_request' },
    async send(f) {
      const body = r.body(f);
      body[field] = make(body[field]);
      const url = (r.service === 'auth' ? f.stack.auth.url : f.stack.chat.url) + r.path(f);
      return outcomeOf(await request(url, { method: r.method, body, token: r.token(f) }));
    },
  };
}

/**
 * Query variants: the parameter given twice (ambiguous, so refused), in the bracket form some
 * frameworks turn into an operator object (here it is just another, unknown, parameter, so the
 * real one is absent), and an operator's JSON as its text.
 */
function queryCases(r: QueryRoute): AttackCase[] {
  return Object.entries(r.params).flatMap(([name, p]) => {
    const url = (f: Fixtures, query: string) => {
      const others = (r.required ?? []).filter((other) => other !== name).map((other) => `${other}=${encodeURIComponent(r.params[other]!.valid(f))}`);
      return `${f.stack.chat.url}${r.path}?${[...others, query].join('&')}`;
    };
    const variants: [string, (f: Fixtures) => string, Outcome][] = [
      ['given twice', (f) => `${name}=${encodeURIComponent(p.valid(f))}&${name}=${encodeURIComponent(p.valid(f))}`, invalid],
      [`as ${name}[$ne]=x`, () => `${encodeURIComponent(`${name}[$ne]`)}=x`, p.absent],
      ['= {"$ne":null} as text', () => `${name}=${encodeURIComponent('{"$ne":null}')}`, p.notAUsername ?? p.wrong],
      ['= {"$regex":".*"} as text', () => `${name}=${encodeURIComponent('{"$regex":".*"}')}`, p.notAUsername ?? p.wrong],
      ['= 1e400', () => `${name}=1e400`, p.wrong],
    ];
    return variants.map(([variant, query, expected]): AttackCase => ({
      area: 'fields',
      name: `${r.route}: ${name} ${variant}`,
      service: 'chat',
      expect: { status: expected.status, code: expected.code },
      async send(f) {
        return outcomeOf(await request(url(f, query(f)), { token: f.alice.token }));
      },
      check(_f, outcome) {
        if (r.path !== '/presence' || outcome.status !== 200) return;
        const users = (outcome.body as { users: { status: string }[] }).users;
        if (users.some((u) => u.status !== 'unknown')) throw new Error(`presence revealed a status: ${JSON.stringify(users)}`);
      },
    }));
  });
}

interface PathRoute {
  route: string;
  service: Service;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path with `value` in the parameter a case breaks. */
  path(f: Fixtures, value: string): string;
  token(f: Fixtures): string;
  body?(f: Fixtures): Record<string, unknown>;
  /** What any value that names nothing answers. */
  expect: Outcome;
}

const conversationNotFound: Outcome = { status: 404, code: 'conversation_not_found' };
const userNotFound: Outcome = { status: 404, code: 'user_not_found' };

/** Every path parameter: a conversation id or a username. */
export const PATH_ROUTES: PathRoute[] = [
  { route: 'GET /users/:username', service: 'auth', method: 'GET', path: (_f, v) => `/users/${v}`, token: (f) => f.alice.token, expect: userNotFound },
  { route: 'GET /conversations/:id', service: 'chat', method: 'GET', path: (_f, v) => `/conversations/${v}`, token: (f) => f.alice.token, expect: conversationNotFound },
  { route: 'POST /conversations/:id/read', service: 'chat', method: 'POST', path: (_f, v) => `/conversations/${v}/read`, token: (f) => f.alice.token, body: (f) => ({ messageId: f.group.messageId }), expect: conversationNotFound },
  // Chat refuses a username outside the rule before any lookup (every variant below is one);
  // Auth's lookup answers 404 for it, as for any name nobody has.
  { route: 'DELETE /conversations/:id/members/:username', service: 'chat', method: 'DELETE', path: (f, v) => `/conversations/${f.group.id}/members/${v}`, token: (f) => f.alice.token, expect: invalid },
  { route: 'PATCH /conversations/:id/members/:username', service: 'chat', method: 'PATCH', path: (f, v) => `/conversations/${f.group.id}/members/${v}`, token: (f) => f.alice.token, body: () => ({ role: 'admin' }), expect: invalid },
  { route: 'GET /internal/conversations/:id/members', service: 'chat', method: 'GET', path: (_f, v) => `/internal/conversations/${v}/members`, token: (f) => f.serviceToken, expect: conversationNotFound },
];

/** What goes into a path parameter, percent-encoded as a client would send it. */
const PATH_VARIANTS: [string, string][] = [
  ['{"$ne":null}', encodeURIComponent('{"$ne":null}')],
  ['{"$regex":".*"}', encodeURIComponent('{"$regex":".*"}')],
  ['../ traversal', encodeURIComponent('../../admin')],
  ['NUL', '%00'],
];

function pathCase(r: PathRoute, variant: string, value: string): AttackCase {
  return {
    area: 'fields',
    name: `${r.route}: the parameter = ${variant}`,
    service: r.service,
    expect: { status: r.expect.status, code: r.expect.code },
    async send(f) {
      const url = (r.service === 'auth' ? f.stack.auth.url : f.stack.chat.url) + r.path(f, value);
      return outcomeOf(await request(url, { method: r.method, token: r.token(f), body: r.body?.(f) }));
    },
  };
}

export const FIELD_CASES: AttackCase[] = [
  ...BODY_ROUTES.flatMap((r) => [
    ...r.strings.flatMap((field) => STRING_VARIANTS.map(([variant, make]) => bodyCase(r, field, variant, make))),
    ...(r.arrays ?? []).flatMap((field) => ARRAY_VARIANTS.map(([variant, make]) => bodyCase(r, field, variant, make))),
  ]),
  ...QUERY_ROUTES.flatMap(queryCases),
  ...PATH_ROUTES.flatMap((r) => PATH_VARIANTS.map(([variant, value]) => pathCase(r, variant, value))),
];
