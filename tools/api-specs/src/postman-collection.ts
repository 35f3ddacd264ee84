/**
 * The Postman collection, generated from api/openapi.yaml: openapi-to-postmanv2 converts the
 * spec, then every request is completed from the scenario (postman-scenario.ts): its base URL,
 * token, parameters and body as Postman variables, and a test script generated from the spec
 * (the expected status, that it is a documented one, and the body against that response's
 * schema). The output is deterministic, so the committed file can be compared with a fresh run:
 *
 *   node --import tsx tools/api-specs/src/postman-collection.ts --write   # regenerate
 *   node --import tsx tools/api-specs/src/postman-collection.ts --check   # exit 1 when stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Converter from 'openapi-to-postmanv2';
import { INPUT_VARIABLES, SCENARIO, type ScenarioStep } from './postman-scenario.js';
import { dereference, loadOpenApi, openApiOperations, REPO_ROOT, type JsonObject, type OpenApiOperation } from './specs.js';

export const COLLECTION_PATH = join(REPO_ROOT, 'api', 'postman', 'chat.postman_collection.json');

/** Postman's collection v2.1 item, as far as this generator writes it. */
interface PostmanItem {
  name: string;
  description?: string;
  request: Record<string, unknown>;
  event: Array<{ listen: 'test'; script: { type: 'text/javascript'; exec: string[] } }>;
}

function convert(doc: JsonObject): Promise<JsonObject> {
  return new Promise((resolve, reject) => {
    Converter.convert({ type: 'json', data: doc }, { folderStrategy: 'Tags', requestNameSource: 'Fallback', parametersResolution: 'Example' }, (err, result) => {
      if (err) return reject(new Error(`openapi-to-postmanv2: ${err.message}`));
      const output = result?.result ? result.output?.[0] : undefined;
      if (!output) return reject(new Error(`openapi-to-postmanv2: ${result?.result === false ? result.reason : 'no output'}`));
      resolve(output.data as unknown as JsonObject);
    });
  });
}

/** Every request item of a converted collection (folders flattened), by `METHOD /path` with `{param}`s. */
function convertedRequests(collection: JsonObject): Map<string, JsonObject> {
  const found = new Map<string, JsonObject>();
  const walk = (items: JsonObject[]) => {
    for (const item of items) {
      if (Array.isArray(item.item)) walk(item.item as JsonObject[]);
      const request = item.request as JsonObject | undefined;
      if (!request) continue;
      const url = request.url as JsonObject;
      const path = '/' + ((url.path as string[]) ?? []).map((segment) => segment.replace(/^:(\w+)$/, '{$1}')).join('/');
      found.set(`${String(request.method)} ${path === '/' ? '/' : path.replace(/\/$/, '')}`, item);
    }
  };
  walk(collection.item as JsonObject[]);
  return found;
}

/** The test script of one request: generated from the operation's documented responses. */
function testScript(step: ScenarioStep, op: OpenApiOperation, doc: JsonObject): string[] {
  const documented = Object.keys(op.responses).map(Number);
  const response = op.responses[String(step.expect)];
  const json = (response?.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined;
  const lines = [
    `// Generated from api/openapi.yaml (${op.operationId}) by tools/api-specs/src/postman-collection.ts: do not edit.`,
    `pm.test('${op.operationId}: status ${step.expect}', function () { pm.response.to.have.status(${step.expect}); });`,
    `pm.test('${op.operationId}: the status is one the spec documents', function () { pm.expect(${JSON.stringify(documented)}).to.include(pm.response.code); });`,
  ];
  if (json) {
    lines.push(`var schema = ${JSON.stringify(dereference(doc, json.schema!))};`);
    lines.push(`pm.test('${op.operationId}: the body matches the spec', function () { pm.response.to.have.jsonSchema(schema); });`);
  }
  for (const [name, expression] of Object.entries(step.store ?? {})) {
    lines.push(`if (pm.response.code === ${step.expect}) { var body = pm.response.json(); pm.collectionVariables.set('${name}', ${expression}); }`);
  }
  return lines;
}

function requestOf(step: ScenarioStep, op: OpenApiOperation, converted: JsonObject): Record<string, unknown> {
  const segments = op.path.split('/').filter(Boolean).map((segment) => segment.replace(/^\{(\w+)\}$/, (_m, name: string) => step.path?.[name] ?? `{{${name}}}`));
  const query = Object.entries(step.query ?? {}).map(([key, value]) => ({ key, value }));
  const raw = `{{${step.base}}}/${segments.join('/')}${query.length ? `?${query.map((q) => `${q.key}=${q.value}`).join('&')}` : ''}`;
  const request: Record<string, unknown> = {
    method: op.method,
    header: step.body === undefined ? [] : [{ key: 'Content-Type', value: 'application/json' }],
    url: { raw, host: [`{{${step.base}}}`], path: segments, ...(query.length ? { query } : {}) },
    auth: step.token ? { type: 'bearer', bearer: [{ key: 'token', value: `{{${step.token}}}`, type: 'string' }] } : { type: 'noauth' },
  };
  if (step.body !== undefined) request.body = { mode: 'raw', raw: JSON.stringify(step.body, null, 2), options: { raw: { language: 'json' } } };
  const description = (converted.request as JsonObject).description;
  if (description !== undefined) request.description = description;
  return request;
}

/** The collection, from the spec as it is now. */
export async function generateCollection(): Promise<JsonObject> {
  const doc = loadOpenApi();
  const operations = new Map(openApiOperations(doc).map((op) => [op.operationId, op]));
  const inScenario = SCENARIO.map((s) => s.operationId);
  const missing = [...operations.keys()].filter((id) => !inScenario.includes(id));
  const unknown = inScenario.filter((id) => !operations.has(id));
  if (missing.length || unknown.length) throw new Error(`postman-scenario.ts and api/openapi.yaml differ: no request for ${missing.join(', ') || '-'}; no operation for ${unknown.join(', ') || '-'}`);

  const converted = await convert(doc);
  const requests = convertedRequests(converted);
  const items: PostmanItem[] = SCENARIO.map((step) => {
    const op = operations.get(step.operationId)!;
    if (!Object.keys(op.responses).includes(String(step.expect))) throw new Error(`${step.operationId}: ${step.expect} is not a documented status`);
    const item = requests.get(`${op.method} ${op.path}`);
    if (!item) throw new Error(`openapi-to-postmanv2 made no request for ${op.method} ${op.path}`);
    return { name: `${op.operationId}: ${String(item.name)}`, request: requestOf(step, op, item), event: [{ listen: 'test', script: { type: 'text/javascript', exec: testScript(step, op, doc) } }] };
  });
  const info = converted.info as JsonObject;
  return {
    info: {
      // A fixed id, so regenerating gives the same file (the converter draws a random one).
      _postman_id: '5f0c6a8e-7c1e-4d5e-9a51-6b0f9d3c2a10',
      name: info.name ?? 'chat-k8s',
      description: `${String((info.description as JsonObject | string | undefined) && typeof info.description === 'object' ? (info.description as JsonObject).content : (info.description ?? ''))}\n\nGenerated from api/openapi.yaml by tools/api-specs/src/postman-collection.ts; runs in order. Set the collection variables ${INPUT_VARIABLES.join(', ')} (base URLs, two registered users' tokens and names, a service token for the internal routes) before running.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: items as unknown as JsonObject[],
    variable: [...INPUT_VARIABLES, 'messageId', 'directConversationId', 'groupId'].map((key) => ({ key, value: defaultValue(key), type: 'string' })),
  } as JsonObject;
}

function defaultValue(key: string): string {
  if (key === 'authUrl') return 'http://127.0.0.1:5001';
  if (key === 'chatUrl') return 'http://127.0.0.1:5002';
  if (key === 'gatewayUrl') return 'http://127.0.0.1:5003';
  if (key === 'gatewayMetricsUrl') return 'http://127.0.0.1:9103';
  return '';
}

export const serialize = (collection: JsonObject) => `${JSON.stringify(collection, null, 2)}\n`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const fresh = serialize(await generateCollection());
  if (process.argv.includes('--write')) {
    writeFileSync(COLLECTION_PATH, fresh);
    console.log(`wrote ${COLLECTION_PATH}`);
  } else {
    const committed = readFileSync(COLLECTION_PATH, 'utf8');
    if (committed !== fresh) {
      console.error(`${COLLECTION_PATH} is stale: run node --import tsx tools/api-specs/src/postman-collection.ts --write`);
      process.exit(1);
    }
    console.log('the Postman collection is up to date');
  }
}
