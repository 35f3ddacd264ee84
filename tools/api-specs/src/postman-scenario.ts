/**
 * What each request of the Postman collection sends, in the order the collection runs: one
 * request per OpenAPI operation, the success path of a user session (register, log in, send,
 * make a group, change it, read, ...), each expecting the status named here, which must be one
 * its operation documents. The values are Postman variables: the base URLs and the users' tokens
 * are set by whoever runs the collection (tests/system/api-postman-newman.test.ts from users it
 * registers; a person in Postman's collection variables), and ids a request creates are stored
 * by its test script for the requests after it. The generator refuses a spec whose operations
 * differ from this table, so an operation added to the spec fails until it has a request here.
 */
export interface ScenarioStep {
  operationId: string;
  /** The base-URL variable of the service (or, for /metrics, the METRICS_PORT) the request goes to. */
  base: 'authUrl' | 'chatUrl' | 'gatewayUrl' | 'gatewayMetricsUrl';
  /** Path parameter → value (Postman variables allowed). */
  path?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** The token variable sent as the bearer token. */
  token?: 'userToken' | 'serviceToken';
  expect: number;
  /** Collection variables to set from the JSON answer: name → a JavaScript expression on `body`. */
  store?: Record<string, string>;
}

export const SCENARIO: readonly ScenarioStep[] = [
  { operationId: 'healthz', base: 'authUrl', expect: 200 },
  { operationId: 'readyz', base: 'chatUrl', expect: 200 },
  { operationId: 'metrics', base: 'gatewayMetricsUrl', expect: 200 },
  { operationId: 'register', base: 'authUrl', body: { username: '{{newUsername}}', password: '{{newPassword}}' }, expect: 201 },
  { operationId: 'login', base: 'authUrl', body: { username: '{{newUsername}}', password: '{{newPassword}}' }, expect: 200 },
  { operationId: 'jwks', base: 'authUrl', expect: 200 },
  { operationId: 'lookupUser', base: 'authUrl', path: { username: '{{peerUsername}}' }, token: 'userToken', expect: 200 },
  {
    operationId: 'sendMessage',
    base: 'chatUrl',
    token: 'userToken',
    body: { to: '{{peerUsername}}', text: 'hello from Postman' },
    expect: 201,
    store: { messageId: 'body.message.id', directConversationId: 'body.message.conversationId' },
  },
  { operationId: 'history', base: 'chatUrl', token: 'userToken', query: { with: '{{peerUsername}}', limit: '10' }, expect: 200 },
  { operationId: 'sync', base: 'chatUrl', token: 'userToken', query: { limit: '10' }, expect: 200 },
  {
    operationId: 'createGroup',
    base: 'chatUrl',
    token: 'userToken',
    body: { name: 'Postman group', members: ['{{peerUsername}}', '{{thirdUsername}}'] },
    expect: 201,
    store: { groupId: 'body.conversation.id' },
  },
  { operationId: 'listConversations', base: 'chatUrl', token: 'userToken', query: { limit: '10' }, expect: 200 },
  { operationId: 'getConversation', base: 'chatUrl', token: 'userToken', path: { id: '{{groupId}}' }, expect: 200 },
  { operationId: 'renameGroup', base: 'chatUrl', token: 'userToken', path: { id: '{{groupId}}' }, body: { name: 'Renamed in Postman' }, expect: 200 },
  { operationId: 'addMembers', base: 'chatUrl', token: 'userToken', path: { id: '{{groupId}}' }, body: { members: ['{{fourthUsername}}'] }, expect: 200 },
  { operationId: 'setRole', base: 'chatUrl', token: 'userToken', path: { id: '{{groupId}}', username: '{{peerUsername}}' }, body: { role: 'admin' }, expect: 200 },
  { operationId: 'removeMember', base: 'chatUrl', token: 'userToken', path: { id: '{{groupId}}', username: '{{fourthUsername}}' }, expect: 200 },
  { operationId: 'markRead', base: 'chatUrl', token: 'userToken', path: { id: '{{directConversationId}}' }, body: { messageId: '{{messageId}}' }, expect: 200 },
  { operationId: 'receipts', base: 'chatUrl', token: 'userToken', path: { id: '{{groupId}}' }, expect: 200 },
  { operationId: 'presence', base: 'chatUrl', token: 'userToken', query: { users: '{{peerUsername}},{{thirdUsername}}' }, expect: 200 },
  { operationId: 'internalContacts', base: 'chatUrl', token: 'serviceToken', body: { userIds: ['{{userId}}'] }, expect: 200 },
  { operationId: 'internalMembers', base: 'chatUrl', token: 'serviceToken', path: { id: '{{groupId}}' }, expect: 200 },
  // Postman speaks HTTP, not WebSocket: a plain GET on the upgrade route gets its documented 426.
  { operationId: 'websocketUpgrade', base: 'gatewayUrl', query: { token: '{{userToken}}' }, expect: 426 },
];

/** The collection's variables: what a runner must set, and what the requests store. */
export const INPUT_VARIABLES = ['authUrl', 'chatUrl', 'gatewayUrl', 'gatewayMetricsUrl', 'userToken', 'userId', 'serviceToken', 'newUsername', 'newPassword', 'peerUsername', 'thirdUsername', 'fourthUsername'] as const;
