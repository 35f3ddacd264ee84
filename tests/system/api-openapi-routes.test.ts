// api/openapi.yaml documents exactly the routes the services serve: Auth's and Chat's read from
// their Koa routers' layers (each app built by its own app builder), the gateway's from its route
// table (services/gateway/src/http-routes.ts), never from a list kept here. A route added to any
// of them fails this test until the spec has it; an operation the services do not serve fails too,
// and so does an error code added to the table without the spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, createMetrics, Lifecycle } from '@chat/common/config';
import { createServiceTokenVerifier } from '@chat/common/jwt';
import { loadOpenApi, openApiOperations } from '@chat/api-specs';
import { koaRoutes, openApiPath } from '../../services/common/src/koa-routes.ts';
import { METRICS_ROUTES } from '../../services/common/src/metrics-server.ts';
import { createAuthApp } from '../../services/auth/src/app.ts';
import { loadSigningKeys } from '../../services/auth/src/keys.ts';
import { createChatApp } from '../../services/chat/src/app.ts';
import { ERROR_CODES } from '../../services/common/src/error-codes.ts';
import { GATEWAY_HTTP_ROUTES } from '../../services/gateway/src/http-routes.ts';
import { sorted } from './markdown.ts';

/**
 * A dependency the app builder only hands to route handlers, which listing routes never runs:
 * any use of it fails the test, so the apps below are built from exactly what serving needs at
 * construction (real logger, metrics, lifecycle, keys) and nothing is pretended.
 */
function neverCalled<T>(name: string): T {
  const fail = (what: string) => {
    throw new Error(`${name}${what} was used while only listing routes`);
  };
  return new Proxy(function () {}, { get: (_t, key) => fail(`.${String(key)}`), apply: () => fail('()') }) as T;
}

async function servedRoutes(): Promise<string[]> {
  const logger = createLogger({ service: 'routes', level: 'silent' });
  const lifecycle = new Lifecycle(logger, 1_000);
  const auth = createAuthApp({
    config: {
      issuer: 'chat-auth',
      audience: 'chat',
      tokenTtlSeconds: 3600,
      bodyLimitBytes: 16_384,
      serviceTokenSecret: 'x'.repeat(32),
      corsOrigins: [],
      trustProxyHops: 0,
      addressAttemptsPerMinute: 30,
      addressRegistrationsPerHour: 10,
      bcryptMaxConcurrent: 4,
      bcryptMaxQueued: 32,
    },
    users: neverCalled('users'),
    limiter: neverCalled('limiter'),
    passwords: neverCalled('passwords'),
    keys: await loadSigningKeys({ production: false, logger }),
    logger,
    metrics: createMetrics('auth'),
    lifecycle,
    readiness: {},
  });
  const chat = createChatApp({
    bodyLimitBytes: 16_384,
    corsOrigins: [],
    logger,
    metrics: createMetrics('chat'),
    lifecycle,
    verifyUser: neverCalled('verifyUser'),
    verifyService: createServiceTokenVerifier('x'.repeat(32)),
    directory: neverCalled('directory'),
    timeline: neverCalled('timeline'),
    messages: neverCalled('messages'),
    conversations: neverCalled('conversations'),
    groups: neverCalled('groups'),
    receipts: neverCalled('receipts'),
    send: neverCalled('send'),
    presence: neverCalled('presence'),
    contactsOf: neverCalled('contactsOf'),
    readiness: {},
  });
  return [
    ...koaRoutes(auth).map((r) => `auth ${r.method} ${openApiPath(r.path)}`),
    ...koaRoutes(chat).map((r) => `chat ${r.method} ${openApiPath(r.path)}`),
    ...GATEWAY_HTTP_ROUTES.map((r) => `gateway ${r.method} ${r.path}`),
    // Every service serves these on its METRICS_PORT (serveMetrics), never on its public port.
    ...(['auth', 'chat', 'gateway'] as const).flatMap((service) => METRICS_ROUTES.map((r) => `${service}:metrics ${r.method} ${r.path}`)),
  ];
}

const documented = () =>
  openApiOperations().flatMap((op) => op.services.map((service) => `${service}${op.port === 'metrics' ? ':metrics' : ''} ${op.method} ${op.path}`));

test('every route a service serves is in api/openapi.yaml under that service, and every documented operation is served', async () => {
  const served = sorted(await servedRoutes());
  const docs = sorted(documented());
  assert.deepEqual(served.filter((r) => !docs.includes(r)), [], 'served but not documented');
  assert.deepEqual(docs.filter((r) => !served.includes(r)), [], 'documented but not served');
  // Sanity: the readers found the routers at all.
  assert.ok(served.length >= 25, `only ${served.length} routes read`);
});

test('each path item names its service(s) by x-service, and its servers are those services’ ports', () => {
  const servicePorts: Record<string, string> = { auth: '5001', chat: '5002', gateway: '5003' };
  const metricsPorts: Record<string, string> = { auth: '9101', chat: '9102', gateway: '9103' };
  const paths = loadOpenApi().paths as Record<string, { servers?: Array<{ url: string }> }>;
  for (const op of openApiOperations()) {
    const ports = op.port === 'metrics' ? metricsPorts : servicePorts;
    assert.ok(op.services.every((s) => s in ports), `${op.method} ${op.path}: unknown x-service ${op.services.join(',')}`);
    const serverPorts = (paths[op.path]!.servers ?? []).map((s) => new URL(s.url).port);
    assert.deepEqual(sorted(serverPorts), sorted(op.services.map((s) => ports[s]!)), `${op.path}: servers`);
    assert.equal((op.operation.tags as string[] | undefined)?.length, 1, `${op.operationId}: exactly one tag`);
  }
});

test("the spec's ErrorCode enum is exactly the error-code table (services/common/src/error-codes.ts)", () => {
  const schemas = (loadOpenApi().components as { schemas: Record<string, { enum?: string[] }> }).schemas;
  assert.deepEqual(sorted(schemas.ErrorCode!.enum ?? []), sorted(Object.keys(ERROR_CODES)));
});
