// Every operation of api/openapi.yaml answers as documented against a running stack (Auth, Chat
// and a gateway from startStack): each request's status is one its operation documents, and the
// body validates against that response's schema (ajv, JSON Schema 2020-12), error `code`s
// included. Every operation is exercised with a success and, where it documents one, an error;
// an operation added to the spec without a case here fails the coverage test at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServiceTokenSource } from '@chat/common/jwt';
import { acceptedErrorCodes, compileSchema, createAjv, describeErrors, loadOpenApi, openApiOperations, type JsonObject } from '@chat/api-specs';
import { ERROR_CODES } from '../../services/common/src/error-codes.ts';
import { startStack, uniqueName, waitFor, type Stack, type TestUser } from '@chat/testkit';

const doc = loadOpenApi();
const operations = new Map(openApiOperations(doc).map((op) => [op.operationId, op]));
const ajv = createAjv();
const ALLOWED_ORIGIN = 'http://allowed.test';

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** (operationId, status) pairs seen answered as documented. */
const covered = new Set<string>();

/** Checks an answer against the operation's documented response for its status. */
function conforms(operationId: string, answer: Answer, expected: number, what: string): any {
  const op = operations.get(operationId);
  assert.ok(op, `no operation ${operationId} in the spec`);
  assert.equal(answer.status, expected, `${operationId} (${what}): status ${answer.status}, expected ${expected}; body ${answer.text.slice(0, 300)}`);
  const response = op.responses[String(answer.status)];
  assert.ok(response, `${operationId} (${what}): ${answer.status} is not documented`);
  const body = checkResponse(response, answer, `${operationId} (${what})`);
  covered.add(`${operationId} ${answer.status}`);
  return body;
}

/** The body against the response object's schema and content type, and its required headers. */
function checkResponse(response: JsonObject, answer: Answer, label: string): any {
  for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, JsonObject>)) {
    if (header.required) assert.ok(answer.headers[name.toLowerCase()] !== undefined, `${label}: header ${name} missing`);
  }
  const content = response.content as Record<string, JsonObject> | undefined;
  if (!content) {
    assert.equal(answer.text, '', `${label}: a body where none is documented`);
    return undefined;
  }
  const contentType = answer.headers['content-type'] ?? '';
  const media = Object.keys(content).find((m) => contentType.startsWith(m));
  assert.ok(media, `${label}: content-type ${contentType} is not one of ${Object.keys(content).join(', ')}`);
  if (media !== 'application/json') {
    assert.ok(answer.text.length > 0, `${label}: empty ${media} body`);
    return answer.text;
  }
  const body = JSON.parse(answer.text) as unknown;
  const validate = compileSchema(ajv, doc, content[media]!.schema!);
  assert.ok(validate(body), `${label}: body does not match the spec: ${describeErrors(validate)}\n${answer.text.slice(0, 500)}`);
  return body;
}

/** One HTTP request, raw enough for any method, body or header. */
async function call(url: string, opts: { method?: string; token?: string; json?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.json !== undefined) body = JSON.stringify(opts.json);
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(url, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
}

/** A WebSocket upgrade request by hand: 101 when the gateway upgrades, else its HTTP answer. */
function upgrade(gatewayUrl: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gatewayUrl}${pathAndQuery}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-version': '13', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text: '' });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

let stack: Stack;
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
let serviceToken: string;
const urls = () => ({ auth: stack.auth.url, chat: stack.chat.url, gateway: stack.gateway.url });

before(async () => {
  stack = await startStack({
    // Long enough to see /readyz fail and a draining gateway refuse an upgrade, at the end.
    env: { SHUTDOWN_DELAY_MS: '3000' },
    serviceEnv: { auth: { LOGIN_MAX_FAILURES: '3' }, gateway: { ALLOWED_ORIGINS: ALLOWED_ORIGIN } },
  });
  [alice, bob, carol, dave] = await Promise.all([stack.user('alice'), stack.user('bob'), stack.user('carol'), stack.user('dave')]);
  serviceToken = await createServiceTokenSource('conformance', stack.env.SERVICE_TOKEN_SECRET!)();
});
after(() => stack?.stop());

const BIG = 'x'.repeat(17 * 1024);
const NO_GROUP = `g:${'0'.repeat(24)}`;

test('Auth: every operation answers as documented', async () => {
  const { auth } = urls();
  const name = uniqueName('reg');
  conforms('register', await call(`${auth}/register`, { json: { username: name, password: 'correct horse battery' } }), 201, 'new user');
  conforms('register', await call(`${auth}/register`, { json: { username: name.toUpperCase(), password: 'correct horse battery' } }), 409, 'taken in another case');
  conforms('register', await call(`${auth}/register`, { json: { username: 'ab', password: 'correct horse battery' } }), 400, 'username too short');
  conforms('register', await call(`${auth}/register`, { json: { username: { $ne: null }, password: 'x' } }), 400, 'operator object');
  conforms('register', await call(`${auth}/register`, { raw: '{"username":' }), 400, 'malformed JSON');
  conforms('register', await call(`${auth}/register`, { json: { username: name, password: BIG } }), 413, 'body over the limit');
  conforms('register', await call(`${auth}/register`, { raw: 'username=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'a form');

  const login = conforms('login', await call(`${auth}/login`, { json: { username: alice.username, password: alice.password } }), 200, 'right password');
  assert.equal(login.user.id, alice.id);
  conforms('login', await call(`${auth}/login`, { json: { username: alice.username, password: 'wrong password' } }), 401, 'wrong password');
  conforms('login', await call(`${auth}/login`, { json: { username: 42, password: 'x' } }), 400, 'a number for a name');
  conforms('login', await call(`${auth}/login`, { raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('login', await call(`${auth}/login`, { json: { username: 'x', password: BIG } }), 413, 'body over the limit');
  const locked = uniqueName('lock');
  for (let i = 0; i < 3; i++) conforms('login', await call(`${auth}/login`, { json: { username: locked, password: 'wrong password' } }), 401, `failure ${i + 1}`);
  conforms('login', await call(`${auth}/login`, { json: { username: locked, password: 'wrong password' } }), 429, 'past LOGIN_MAX_FAILURES');

  conforms('lookupUser', await call(`${auth}/users/${bob.username.toUpperCase()}`, { token: alice.token }), 200, 'user token, other case');
  conforms('lookupUser', await call(`${auth}/users/${bob.username}`, { token: serviceToken }), 200, 'service token');
  conforms('lookupUser', await call(`${auth}/users/nobody_${randomBytes(3).toString('hex')}`, { token: alice.token }), 404, 'unknown');
  conforms('lookupUser', await call(`${auth}/users/${bob.username}`), 401, 'no token');
  conforms('lookupUser', await call(`${auth}/users/${bob.username}`, { token: `${alice.token}x` }), 401, 'bad signature');

  conforms('jwks', await call(`${auth}/.well-known/jwks.json`), 200, 'keys');
});

let direct: { message: any; conversationId: string };
let groupId: string;

test('Chat: sending, history and sync answer as documented', async () => {
  const { chat } = urls();
  const clientMsgId = `c-${randomBytes(4).toString('hex')}`;
  const sent = conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: bob.username, text: 'hello bob', clientMsgId } }), 201, '1:1');
  direct = { message: sent.message, conversationId: sent.message.conversationId };
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: bob.username, text: 'hello bob', clientMsgId } }), 200, 'a repeat');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: bob.username, text: 'something else', clientMsgId } }), 422, 'same key, other text');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: bob.username, conversationId: direct.conversationId, text: 'x' } }), 400, 'both to and conversationId');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: bob.username, text: ' \n\t ' } }), 400, 'whitespace only');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, raw: '[1,2]' }), 400, 'a JSON array');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: `nobody_${randomBytes(3).toString('hex')}`, text: 'hi' } }), 404, 'unknown recipient');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { conversationId: NO_GROUP, text: 'hi' } }), 404, 'unknown conversation');
  conforms('sendMessage', await call(`${chat}/chat/send`, { json: { to: bob.username, text: 'hi' } }), 401, 'no token');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, json: { to: bob.username, text: BIG } }), 413, 'body over the limit');
  conforms('sendMessage', await call(`${chat}/chat/send`, { token: alice.token, raw: 'hi', contentType: 'text/plain' }), 415, 'text');

  const page = conforms('history', await call(`${chat}/chat/history?with=${bob.username}&limit=10`, { token: alice.token }), 200, 'with');
  assert.equal(page.messages[0].id, direct.message.id);
  conforms('history', await call(`${chat}/chat/history?conversation=${encodeURIComponent(direct.conversationId)}`, { token: bob.token }), 200, 'by id');
  conforms('history', await call(`${chat}/chat/history?with=${bob.username}&limit=0`, { token: alice.token }), 400, 'limit 0');
  conforms('history', await call(`${chat}/chat/history`, { token: alice.token }), 400, 'neither with nor conversation');
  conforms('history', await call(`${chat}/chat/history?with=nobody_${randomBytes(3).toString('hex')}`, { token: alice.token }), 404, 'unknown user');
  conforms('history', await call(`${chat}/chat/history?conversation=${encodeURIComponent(direct.conversationId)}`, { token: carol.token }), 404, 'not hers');
  conforms('history', await call(`${chat}/chat/history?with=${bob.username}`), 401, 'no token');

  const synced = conforms('sync', await call(`${chat}/chat/sync?limit=5`, { token: bob.token }), 200, 'from the start');
  conforms('sync', await call(`${chat}/chat/sync?after=${synced.cursor}`, { token: bob.token }), 200, 'after a cursor');
  conforms('sync', await call(`${chat}/chat/sync?after=${synced.cursor}`, { token: alice.token }), 400, "another user's cursor");
  conforms('sync', await call(`${chat}/chat/sync?limit=501`, { token: bob.token }), 400, 'limit too large');
  conforms('sync', await call(`${chat}/chat/sync`), 401, 'no token');
});

test('Chat: conversations, groups and receipts answer as documented', async () => {
  const { chat } = urls();
  const conv = (path = '') => `${chat}/conversations${path}`;
  const created = conforms('createGroup', await call(conv(), { token: alice.token, json: { name: '  Team  ', members: [bob.username, carol.username] } }), 201, 'a group');
  groupId = created.conversation.id;
  conforms('createGroup', await call(conv(), { token: alice.token, json: { name: 'Empty', members: [alice.username] } }), 400, 'only the caller');
  conforms('createGroup', await call(conv(), { token: alice.token, json: { name: 'Ghosts', members: [`nobody_${randomBytes(3).toString('hex')}`] } }), 404, 'unknown member');
  conforms('createGroup', await call(conv(), { json: { name: 'x', members: [bob.username] } }), 401, 'no token');
  conforms('createGroup', await call(conv(), { token: alice.token, raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('createGroup', await call(conv(), { token: alice.token, json: { name: BIG, members: [bob.username] } }), 413, 'body over the limit');

  conforms('listConversations', await call(conv('?limit=10'), { token: alice.token }), 200, 'the list');
  conforms('listConversations', await call(conv('?before=%24%24'), { token: alice.token }), 400, 'a bad cursor');
  conforms('listConversations', await call(conv()), 401, 'no token');

  const g = (path = '') => conv(`/${encodeURIComponent(groupId)}${path}`);
  conforms('getConversation', await call(g(), { token: bob.token }), 200, 'a group, for a member');
  // A 1:1 conversation is listed, and answers by id, once the activity writer has run (CONVERSATION_ACTIVITY_INTERVAL_MS).
  const directAnswer = await waitFor('the 1:1 conversation to be written', async () => {
    const answer = await call(conv(`/${encodeURIComponent(direct.conversationId)}`), { token: bob.token });
    return answer.status === 200 ? answer : undefined;
  });
  conforms('getConversation', directAnswer, 200, '1:1');
  conforms('getConversation', await call(g(), { token: dave.token }), 404, 'not a member');
  conforms('getConversation', await call(g()), 401, 'no token');

  conforms('renameGroup', await call(g(), { method: 'PATCH', token: alice.token, json: { name: 'Team 2' } }), 200, 'by the owner');
  conforms('renameGroup', await call(g(), { method: 'PATCH', token: bob.token, json: { name: 'Mine' } }), 403, 'by a member');
  conforms('renameGroup', await call(g(), { method: 'PATCH', token: alice.token, json: { name: '   ' } }), 400, 'blank');
  conforms('renameGroup', await call(g(), { method: 'PATCH', token: dave.token, json: { name: 'x' } }), 404, 'not a member');
  conforms('renameGroup', await call(g(), { method: 'PATCH', token: alice.token, raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('renameGroup', await call(g(), { method: 'PATCH', json: { name: 'x' } }), 401, 'no token');
  conforms('renameGroup', await call(g(), { method: 'PATCH', token: alice.token, json: { name: BIG } }), 413, 'body over the limit');

  conforms('addMembers', await call(g('/members'), { token: alice.token, json: { members: [dave.username] } }), 200, 'by the owner');
  conforms('addMembers', await call(g('/members'), { token: bob.token, json: { members: [dave.username] } }), 403, 'by a member');
  conforms('addMembers', await call(g('/members'), { token: alice.token, json: { members: 'dave' } }), 400, 'not an array');
  conforms('addMembers', await call(g('/members'), { token: alice.token, json: { members: [`nobody_${randomBytes(3).toString('hex')}`] } }), 404, 'unknown user');
  conforms('addMembers', await call(g('/members'), { json: { members: [dave.username] } }), 401, 'no token');
  conforms('addMembers', await call(g('/members'), { token: alice.token, raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('addMembers', await call(g('/members'), { token: alice.token, json: { members: [BIG] } }), 413, 'body over the limit');

  const member = (who: TestUser) => g(`/members/${who.username}`);
  conforms('setRole', await call(member(bob), { method: 'PATCH', token: alice.token, json: { role: 'admin' } }), 200, 'the owner makes an admin');
  conforms('setRole', await call(member(carol), { method: 'PATCH', token: bob.token, json: { role: 'admin' } }), 403, 'an admin is not the owner');
  conforms('setRole', await call(member(carol), { method: 'PATCH', token: alice.token, json: { role: 'owner' } }), 400, 'not a role one can give');
  conforms('setRole', await call(g(`/members/nobody_x`), { method: 'PATCH', token: alice.token, json: { role: 'admin' } }), 404, 'not in the group');
  conforms('setRole', await call(member(carol), { method: 'PATCH', json: { role: 'admin' } }), 401, 'no token');
  conforms('setRole', await call(member(carol), { method: 'PATCH', token: alice.token, raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('setRole', await call(member(carol), { method: 'PATCH', token: alice.token, json: { role: BIG } }), 413, 'body over the limit');

  conforms('removeMember', await call(member(dave), { method: 'DELETE', token: bob.token }), 200, 'an admin removes a member');
  conforms('removeMember', await call(member(alice), { method: 'DELETE', token: bob.token }), 403, 'the owner cannot be removed');
  conforms('removeMember', await call(g(`/members/nobody_x`), { method: 'DELETE', token: alice.token }), 404, 'not in the group');
  conforms('removeMember', await call(g(`/members/${'x'.repeat(65)}`), { method: 'DELETE', token: alice.token }), 400, 'a name too long');
  conforms('removeMember', await call(member(carol), { method: 'DELETE' }), 401, 'no token');
  conforms('removeMember', await call(member(carol), { method: 'DELETE', token: carol.token }), 204, 'carol leaves');

  const dm = (path: string) => conv(`/${encodeURIComponent(direct.conversationId)}${path}`);
  conforms('markRead', await call(dm('/read'), { token: bob.token, json: { messageId: direct.message.id } }), 200, 'bob reads');
  conforms('markRead', await call(dm('/read'), { token: bob.token, json: { messageId: 'not-an-id' } }), 400, 'not a message id');
  conforms('markRead', await call(dm('/read'), { token: carol.token, json: { messageId: direct.message.id } }), 404, 'not hers');
  conforms('markRead', await call(dm('/read'), { json: { messageId: direct.message.id } }), 401, 'no token');
  conforms('markRead', await call(dm('/read'), { token: bob.token, raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('markRead', await call(dm('/read'), { token: bob.token, json: { messageId: BIG } }), 413, 'body over the limit');

  conforms('receipts', await call(dm('/receipts'), { token: alice.token }), 200, '1:1');
  conforms('receipts', await call(g('/receipts'), { token: alice.token }), 200, 'a group');
  conforms('receipts', await call(g('/receipts'), { token: dave.token }), 404, 'a former member');
  conforms('receipts', await call(g('/receipts')), 401, 'no token');

  conforms('presence', await call(`${chat}/presence?users=${bob.username},${dave.username},nobody_x`, { token: alice.token }), 200, 'a contact and strangers');
  conforms('presence', await call(`${chat}/presence`, { token: alice.token }), 400, 'no users');
  conforms('presence', await call(`${chat}/presence?users=${bob.username}`), 401, 'no token');
});

test("Chat: the gateways' internal routes answer as documented", async () => {
  const { chat } = urls();
  conforms('internalContacts', await call(`${chat}/internal/contacts`, { token: serviceToken, json: { userIds: [alice.id, bob.id] } }), 200, 'service token');
  conforms('internalContacts', await call(`${chat}/internal/contacts`, { token: alice.token, json: { userIds: [alice.id] } }), 403, 'a user token');
  conforms('internalContacts', await call(`${chat}/internal/contacts`, { token: serviceToken, json: { userIds: ['nope'] } }), 400, 'not user ids');
  conforms('internalContacts', await call(`${chat}/internal/contacts`, { json: { userIds: [alice.id] } }), 401, 'no token');
  conforms('internalContacts', await call(`${chat}/internal/contacts`, { token: serviceToken, raw: 'x', contentType: 'text/plain' }), 415, 'text');
  conforms('internalContacts', await call(`${chat}/internal/contacts`, { token: serviceToken, json: { userIds: [BIG] } }), 413, 'body over the limit');
  const members = (id: string) => `${chat}/internal/conversations/${encodeURIComponent(id)}/members`;
  conforms('internalMembers', await call(members(groupId), { token: serviceToken }), 200, 'a group');
  conforms('internalMembers', await call(members(groupId), { token: alice.token }), 403, 'a user token');
  conforms('internalMembers', await call(members(direct.conversationId), { token: serviceToken }), 404, 'a 1:1 id');
  conforms('internalMembers', await call(members(groupId)), 401, 'no token');
});

test('Gateway: the WebSocket upgrade answers as documented', async () => {
  const { gateway } = urls();
  conforms('websocketUpgrade', await upgrade(gateway, `/?token=${encodeURIComponent(alice.token)}`), 101, 'token in the query');
  conforms('websocketUpgrade', await upgrade(gateway, '/', { authorization: `Bearer ${alice.token}`, origin: ALLOWED_ORIGIN }), 101, 'bearer header, allowed origin');
  conforms('websocketUpgrade', await upgrade(gateway, '/'), 401, 'no token');
  conforms('websocketUpgrade', await upgrade(gateway, '/?token=garbage'), 401, 'garbage token');
  conforms('websocketUpgrade', await upgrade(gateway, `/?token=${encodeURIComponent(alice.token)}`, { origin: 'http://evil.test' }), 403, 'another origin');
  conforms('websocketUpgrade', await call(`${gateway}/?token=${encodeURIComponent(alice.token)}`), 426, 'a plain GET');
});

test('every service: /healthz, /readyz and (on METRICS_PORT) /metrics answer as documented; unknown paths and methods get the generic errors', async () => {
  const responses = doc.components as { responses: Record<string, JsonObject> };
  const generic = (name: string, answer: Answer, expected: number, label: string) => {
    assert.equal(answer.status, expected, `${label}: ${answer.status} ${answer.text}`);
    checkResponse(responses.responses[name]!, answer, label);
  };
  for (const [service, url] of Object.entries(urls())) {
    conforms('healthz', await call(`${url}/healthz`), 200, service);
    conforms('readyz', await call(`${url}/readyz`), 200, service);
    conforms('metrics', await call(`${stack[service as keyof ReturnType<typeof urls>].metricsUrl}/metrics`), 200, service);
    generic('NotFound', await call(`${url}/metrics`), 404, `${service}: /metrics on the public port`);
    generic('NotFound', await call(`${url}/no/such/route`), 404, `${service}: unknown path`);
  }
  for (const [service, url] of [['auth', stack.auth.url], ['chat', stack.chat.url]] as const) {
    generic('MethodNotAllowed', await call(`${url}/healthz`, { method: 'DELETE' }), 405, `${service}: DELETE /healthz`);
    generic('MethodNotAllowed', await call(`${url}/healthz`, { method: 'PROPFIND' }), 405, `${service}: PROPFIND /healthz`);
  }
  generic('MethodNotAllowed', await call(`${stack.gateway.url}/healthz`, { method: 'DELETE' }), 405, 'gateway: DELETE /healthz');
});

test('draining: /readyz answers 503 not_ready on every service, and the gateway refuses upgrades with 503', async () => {
  for (const svc of [stack.auth, stack.chat, stack.gateway]) svc.proc.kill('SIGTERM');
  // The signal lands a moment later: poll (in parallel, within SHUTDOWN_DELAY_MS) until it did.
  const draining = await Promise.all(
    Object.entries(urls()).map(async ([service, url]) => {
      const answer = await waitFor(`${service} to start draining`, async () => {
        const a = await call(`${url}/readyz`);
        return a.status === 200 ? undefined : a;
      }, 2_500, 20);
      return [service, answer] as const;
    }),
  );
  for (const [service, answer] of draining) conforms('readyz', answer, 503, `${service} draining`);
  conforms('websocketUpgrade', await upgrade(stack.gateway.url, `/?token=${encodeURIComponent(bob.token)}`), 503, 'draining');
});

test('coverage: every operation was answered with a documented success and, where it documents one, a documented error', () => {
  const missing: string[] = [];
  let documentedPairs = 0;
  const unexercised: string[] = [];
  for (const op of operations.values()) {
    const statuses = Object.keys(op.responses);
    documentedPairs += statuses.length;
    const seen = statuses.filter((s) => covered.has(`${op.operationId} ${s}`));
    unexercised.push(...statuses.filter((s) => !seen.includes(s)).map((s) => `${op.operationId} ${s}`));
    if (!seen.some((s) => Number(s) < 400)) missing.push(`${op.operationId}: no success`);
    if (statuses.some((s) => Number(s) >= 400) && !seen.some((s) => Number(s) >= 400)) missing.push(`${op.operationId}: no error`);
  }
  assert.deepEqual(missing, []);
  console.log(`openapi conformance: ${operations.size} operations, ${covered.size} of ${documentedPairs} documented (operation, status) pairs answered as documented; not exercised here: ${unexercised.join(', ')}`);
});

test("every error response's codes are codes of the error-code table, with that code's status", () => {
  const codes = Object.keys(ERROR_CODES);
  for (const op of operations.values()) {
    for (const [status, response] of Object.entries(op.responses)) {
      if (Number(status) < 400) continue;
      const schema = (response.content as Record<string, JsonObject>)['application/json']!.schema!;
      const accepted = acceptedErrorCodes(compileSchema(ajv, doc, schema), codes);
      assert.ok(accepted.length > 0, `${op.operationId} ${status}: accepts no error code`);
      for (const code of accepted) assert.equal(ERROR_CODES[code as keyof typeof ERROR_CODES].status, Number(status), `${op.operationId} ${status}: ${code}`);
    }
  }
});
