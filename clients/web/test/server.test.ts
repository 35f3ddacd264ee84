/**
 * server.mjs as the container runs it: a real process, env in, HTTP out. DIST_DIR points at a
 * scratch directory with a secret file beside it, so a traversal that worked would show.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startWebServer as startServer, type WebServer } from './web-server.ts';

const env = {
  AUTH_PUBLIC_URL: 'https://auth.example.test',
  CHAT_PUBLIC_URL: 'https://chat.example.test:8443/api',
  GATEWAY_PUBLIC_URL: 'wss://ws.example.test',
};

/** A raw GET: fetch() would normalise `..` segments away before they reach the server. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + '/', { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server: WebServer;
let scratch: string;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'web-server-test-'));
  const dist = join(scratch, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>test page</title>');
  writeFileSync(join(dist, 'app.js'), 'console.log(1)');
  writeFileSync(join(dist, '.env'), 'HIDDEN=1');
  writeFileSync(join(scratch, 'secret.txt'), 'TOP SECRET');
  server = await startServer({ ...env, DIST_DIR: dist });
});

after(() => {
  if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
});

test('GET /config.json: the three public URLs from the environment, never cached', async () => {
  const res = await fetch(`${server.url}/config.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await res.json(), { authUrl: env.AUTH_PUBLIC_URL, chatUrl: env.CHAT_PUBLIC_URL, gatewayUrl: env.GATEWAY_PUBLIC_URL });
});

test('without the variables, config.json gives the `make up` addresses', async () => {
  const plain = await startServer({ DIST_DIR: scratch });
  try {
    assert.deepEqual(await (await fetch(`${plain.url}/config.json`)).json(), { authUrl: 'http://127.0.0.1:5001', chatUrl: 'http://127.0.0.1:5002', gatewayUrl: 'ws://127.0.0.1:5003' });
  } finally {
    plain.proc.kill('SIGKILL');
  }
});

test('/ serves index.html with a CSP whose connect-src is the page and the three services', async () => {
  const res = await fetch(`${server.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/html/);
  assert.equal(await res.text(), '<!doctype html><title>test page</title>');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const csp = res.headers.get('content-security-policy')!;
  const connect = /connect-src ([^;]+)/.exec(csp)![1]!.split(' ');
  assert.deepEqual(connect, ["'self'", 'https://auth.example.test', 'https://chat.example.test:8443', 'wss://ws.example.test']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  const js = await fetch(`${server.url}/app.js`);
  assert.match(js.headers.get('content-type')!, /^text\/javascript/);
  assert.equal(await js.text(), 'console.log(1)');
  assert.ok(js.headers.get('content-security-policy'), 'every response carries the headers');
});

test('GET /healthz answers 200', async () => {
  const res = await fetch(`${server.url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('anything else is 404: unknown files, directories, dot-files', async () => {
  for (const path of ['/nope.js', '/assets', '/assets/', '/.env', '/index.html/x']) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
  const post = await fetch(`${server.url}/`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('no path traversal, plain or percent-encoded', async () => {
  for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/..\\secret.txt', '/%252e%252e/secret.txt', '//etc/passwd', '/%00', '/%E0%A4%A']) {
    const res = await rawGet(server.url, path);
    assert.notEqual(res.status, 200, path);
    assert.ok(!res.body.includes('TOP SECRET') && !res.body.includes('root:'), path);
  }
  // The same request for a file that is inside works, so the refusals above are about the path.
  assert.equal((await rawGet(server.url, '/assets/../app.js')).status, 200);
});

test('SIGTERM: stops listening, exits 0', async () => {
  const s = await startServer({ DIST_DIR: scratch });
  const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
  s.proc.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(s.output(), /"msg":"draining"/);
  await assert.rejects(fetch(`${s.url}/healthz`));
});
