/**
 * The schemathesis gate: api/openapi.yaml, run by schemathesis against real Auth, Chat and
 * Gateway processes. No request schemathesis generates from the document, valid or not, may get
 * a 5xx (`not_a_server_error`), and every answer must match the schema the document gives for
 * its status (`response_schema_conformance`). Each service gets its own run against its own
 * port, over the operations the document tags as its own plus the health routes every service
 * serves, with a bounded number of examples per operation (Chat a second one, in a real group;
 * `/metrics` one per service on its METRICS_PORT: RUNS); a run must test exactly the operations
 * the document gives it, so a filter that matches nothing fails instead of passing on zero.
 *
 * schemathesis comes from tools/bootstrap/schemathesis.sh (a pinned, project-local venv; `make
 * test` runs it first, and this test runs it again, a no-op when it is in place): when it cannot
 * be installed, this test fails with the installer's reason. It never skips.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createServiceTokenSource } from '@chat/common/jwt';
import { registerAndLogin, repoRoot, request, startStack, type ServiceName, type Stack, type TestUser } from '@chat/testkit';
import { send } from './support.ts';

/**
 * Generated examples per operation (schemathesis' `--max-examples`), on top of the document's own
 * examples and schemathesis' coverage cases; SCHEMATHESIS_MAX_EXAMPLES for a longer hunt.
 */
const MAX_EXAMPLES = Number(process.env.SCHEMATHESIS_MAX_EXAMPLES ?? 25);
/** No request may take longer: a hang is a bug, and schemathesis reports a timeout as an error. */
const REQUEST_TIMEOUT_S = 5;
/** Each run's own bound; at the default examples a run takes well under a minute here. */
const RUN_TIMEOUT_MS = 180_000;
/**
 * The gate's checks. SCHEMATHESIS_CHECKS runs others too, e.g. `all` less the two that judge the
 * document's looseness rather than the services (positive_data_acceptance,
 * negative_data_rejection): status_code_conformance,content_type_conformance,
 * response_headers_conformance,unsupported_method,missing_required_header,ignored_auth.
 */
const CHECKS = process.env.SCHEMATHESIS_CHECKS ?? 'not_a_server_error,response_schema_conformance';

const root = repoRoot();
const spec = join(root, 'api', 'openapi.yaml');
const bin = join(root, 'tools', 'bin', 'schemathesis');
/** The tags of each service's own operations in the document; `health` is served by all three. */
const TAGS: Record<ServiceName, string[]> = { auth: ['auth', 'health'], chat: ['chat', 'chat-internal', 'health'], gateway: ['gateway', 'health'] };

interface Run {
  name: string;
  service: ServiceName;
  /**
   * `metrics`: the paths the document serves on METRICS_PORT (their path item's `x-port:
   * metrics`), against the process's metrics port; otherwise every other path of the service,
   * against its public port.
   */
  port?: 'metrics';
  /** Only the public paths that match (schemathesis' --include-path-regex), all of them the service's. */
  pathRegex?: string;
  /** Fixes the `id` path parameter to a group alice owns and bob and carol are in. */
  inGroup?: boolean;
}

/**
 * One run per service over all its operations, with every value generated: conversation ids
 * then name nothing, so every operation on a conversation answers 404. A second Chat run gives
 * those operations a real group, so renames, member and role changes, read marks and receipts
 * run their whole path (with everything else in the request still generated). `/metrics` lives
 * on each process's METRICS_PORT, so it gets a run of its own there.
 */
const RUNS: Run[] = [
  { name: 'auth', service: 'auth' },
  { name: 'chat', service: 'chat' },
  { name: 'chat, in a real group', service: 'chat', pathRegex: '\\{id\\}', inGroup: true },
  { name: 'gateway', service: 'gateway' },
  ...(['auth', 'chat', 'gateway'] as const).map((service): Run => ({ name: `${service}'s metrics port`, service, port: 'metrics' })),
];

/**
 * The configuration of one run. Tokens are read from the environment by schemathesis, so neither
 * this file nor the printed command holds one; each security scheme of the document gets its
 * credential (schemathesis sends what each operation's `security` names).
 *
 * The gateway's HTTP side is uWebSockets.js 20.30 (the `@trufflesuite/uws-js-unofficial` build),
 * whose HTTP parser never hands two kinds of request to the gateway's code: one with a method it
 * does not know (QUERY, PROPFIND, …: the connection is closed without an answer), and one with a
 * header name outside [A-Za-z0-9-] (`x_y`, `a.b`: never answered; uWS closes the connection at
 * its 10 s idle timeout). No gateway code can answer those, so its run leaves them out: QUERY
 * from the unexpected methods, and unexpected header names (extra parameters) from negative
 * data. services/gateway/test/http-parser-limits.test.ts pins both, so a uWS build that fixes
 * them fails there and this exception can go.
 */
function config(service: ServiceName, groupId?: string): string {
  const lines = [
    '[auth.openapi.userBearer]',
    'bearer = "${SCHEMATHESIS_USER_TOKEN}"',
    '[auth.openapi.serviceBearer]',
    'bearer = "${SCHEMATHESIS_SERVICE_TOKEN}"',
    '[auth.openapi.gatewayQueryToken]',
    'api_key = "${SCHEMATHESIS_USER_TOKEN}"',
  ];
  if (groupId) lines.push('[parameters]', `"path.id" = "${groupId}"`);
  if (service === 'gateway') {
    lines.push('[generation]', 'allow-extra-parameters = false', '[phases.coverage]', 'unexpected-methods = ["get", "put", "post", "delete", "options", "patch", "trace"]');
  }
  return `${lines.join('\n')}\n`;
}

type Doc = { paths: Record<string, Record<string, unknown> & { 'x-port'?: string }> };
let doc: Doc | undefined;

/** api/openapi.yaml, read with the venv's own YAML parser (PyYAML comes with schemathesis). */
function loadDoc(): Doc {
  if (doc) return doc;
  const py = 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
  const python = join(dirname(readlinkSync(bin)), 'python');
  const r = spawnSync(python, ['-c', py, spec], { encoding: 'utf8' });
  assert.equal(r.status, 0, `reading ${spec}: ${r.stderr}`);
  doc = JSON.parse(r.stdout) as Doc;
  return doc;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'query'];
const exactPaths = (paths: string[]) => `^(${paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;

/**
 * What one run selects: schemathesis' filter arguments, and the operationId of every operation
 * those filters must select, found in the document independently (by the service's tags, the
 * path item's `x-port` and the run's path pattern), so a filter that selects more or less fails.
 */
function selection({ service, port, pathRegex }: Run): { filters: string[]; expected: string[] } {
  const { paths } = loadDoc();
  const onMetricsPort = Object.keys(paths).filter((path) => paths[path]!['x-port'] === 'metrics');
  const expected: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if ((item['x-port'] === 'metrics') !== (port === 'metrics')) continue;
    const byPath = pathRegex !== undefined && new RegExp(pathRegex).test(path);
    for (const [method, op] of Object.entries(item) as [string, { operationId?: string; tags?: string[] }][]) {
      if (!METHODS.includes(method)) continue;
      const ours = op.tags?.some((t) => TAGS[service].includes(t)) === true;
      if (byPath) assert.ok(ours, `${method.toUpperCase()} ${path} matches ${pathRegex} but is not tagged as ${service}'s`);
      if (pathRegex === undefined ? ours : byPath) expected.push(op.operationId ?? `${method} ${path}`);
    }
  }
  // schemathesis ORs its include filters, so a run by path names no tag; excludes apply after.
  let filters: string[];
  if (port === 'metrics') filters = ['--include-path-regex', exactPaths(onMetricsPort)];
  else filters = pathRegex ? ['--include-path-regex', pathRegex] : TAGS[service].flatMap((tag) => ['--include-tag', tag]);
  if (port !== 'metrics' && onMetricsPort.length > 0) filters.push('--exclude-path-regex', exactPaths(onMetricsPort));
  return { filters, expected };
}

function run(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // Asynchronous on purpose: the services' output pipes are read by this event loop, and a
    // blocked loop would stall them once a pipe filled.
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n[the run took over ${RUN_TIMEOUT_MS / 1000} s and was killed]`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

let stack: Stack;
let alice: TestUser;
let groupId: string;
let work: string;

before(async () => {
  const install = spawnSync('bash', [join(root, 'tools', 'bootstrap', 'schemathesis.sh')], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(install.status, 0, `schemathesis could not be installed (tools/bootstrap/schemathesis.sh):\n${install.stderr}`);
  stack = await startStack();
  // The document's examples name alice, bob and carol, with this password: with them registered
  // (alice the caller), a 1:1 of alice's and her group, the examples reach the answers a real
  // user gets (a token, a stored message, a member added), not only 4xx.
  alice = await registerAndLogin(stack.auth.url, 'alice', 'correct horse battery');
  await registerAndLogin(stack.auth.url, 'bob', 'correct horse battery');
  await registerAndLogin(stack.auth.url, 'carol', 'correct horse battery');
  await send(stack.chat.url, alice, 'bob', 'hello bob');
  const group = await request(`${stack.chat.url}/conversations`, { token: alice.token, body: { name: 'Team', members: ['bob', 'carol'] } });
  assert.equal(group.status, 201, group.text);
  groupId = group.body.conversation.id;
  work = mkdtempSync(join(tmpdir(), 'chat-schemathesis-'));
});

after(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const r of RUNS) {
  const { service } = r;
  test(`schemathesis: no 5xx and no response-schema violation on ${r.name}`, async (t) => {
    const { filters, expected } = selection(r);
    assert.ok(expected.length > 0, `api/openapi.yaml has no operation for the run on ${r.name}`);
    const configFile = join(work, `${r.name.replace(/\W+/g, '-')}.toml`);
    const text = config(service, r.inGroup ? groupId : undefined);
    writeFileSync(configFile, text);
    const args = [
      '--config-file', configFile, '--no-color',
      'run', spec,
      '--url', r.port === 'metrics' ? stack[service].metricsUrl : stack[service].url,
      ...filters,
      '--checks', CHECKS,
      '--max-examples', String(MAX_EXAMPLES),
      '--request-timeout', String(REQUEST_TIMEOUT_S),
      '--generation-database', 'none',
      '--workers', '1',
    ];
    t.diagnostic(`command (from ${work}): ${relative(root, bin)} ${args.join(' ')}`);
    t.diagnostic(`${configFile}: ${text.trim().split('\n').join(' ')}`);
    const serviceToken = await createServiceTokenSource('schemathesis', stack.env.SERVICE_TOKEN_SECRET!)();
    const started = Date.now();
    const { code, out } = await run(bin, args, { SCHEMATHESIS_USER_TOKEN: alice.token, SCHEMATHESIS_SERVICE_TOKEN: serviceToken }, work);
    const tested = Number(/^\s*Tested: (\d+)/m.exec(out)?.[1] ?? NaN);
    const generated = /(\d+) generated/.exec(out)?.[1] ?? '?';
    t.diagnostic(`${r.name}: ${tested} operations, ${generated} test cases, exit ${code}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(code, 0, `schemathesis found failures on ${r.name} (its report, last part):\n${out.slice(-12_000)}`);
    assert.equal(tested, expected.length, `${r.name}: schemathesis tested ${tested} operations, the document has ${expected.length} (${expected.join(', ')})\n${out.slice(-4_000)}`);
    // Still serving afterwards: a crash after schemathesis' last request would not show above.
    const ready = await fetch(`${stack[service].url}/readyz`);
    assert.equal(ready.status, 200, `${service} is not ready after the run: ${await ready.text()}\n${stack[service].output().slice(-4_000)}`);
  });
}
