// Serves the web client: the files in dist/ and GET /config.json, which tells the page where
// the three services are. Plain Node with no dependencies, because the container image holds
// only dist/ and this file.
//
// Env: AUTH_PUBLIC_URL, CHAT_PUBLIC_URL, GATEWAY_PUBLIC_URL (the addresses as the *browser*
// reaches them, so they also work through `kubectl port-forward`), PORT (5000), HOST
// (127.0.0.1), DIST_DIR (dist/ beside this file; tests point it elsewhere).
// SIGTERM/SIGINT: stop accepting, finish the requests in flight, exit 0.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const config = {
  authUrl: env.AUTH_PUBLIC_URL || 'http://127.0.0.1:5001',
  chatUrl: env.CHAT_PUBLIC_URL || 'http://127.0.0.1:5002',
  gatewayUrl: env.GATEWAY_PUBLIC_URL || 'ws://127.0.0.1:5003',
};
const port = Number(env.PORT ?? 5000);
const host = env.HOST || '127.0.0.1';
const root = resolve(env.DIST_DIR || join(dirname(fileURLToPath(import.meta.url)), 'dist'));
const DRAIN_TIMEOUT_MS = 10_000;

/** One JSON line, in the services' (pino's) shape so the same tools read it; 30 info, 50 error. */
function log(msg, fields = {}, level = 30) {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), service: 'web', msg, ...fields })}\n`);
}

function originOf(name, url) {
  try {
    return new URL(url).origin;
  } catch {
    log('invalid URL in configuration', { name, url }, 50);
    process.exit(2);
  }
}

// The page may talk only to itself and to the three services. Origins rather than full URLs:
// a CSP source with a path matches that path alone, which would block /login under /auth.
const connectSrc = ["'self'", originOf('AUTH_PUBLIC_URL', config.authUrl), originOf('CHAT_PUBLIC_URL', config.chatUrl), originOf('GATEWAY_PUBLIC_URL', config.gatewayUrl)];
const securityHeaders = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${[...new Set(connectSrc)].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

let draining = false;

function send(res, status, body, headers = {}) {
  const buf = Buffer.from(body);
  res.writeHead(status, { ...securityHeaders, 'content-length': buf.length, ...headers, ...(draining ? { connection: 'close' } : {}) });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

const json = (res, status, value, headers = {}) => send(res, status, JSON.stringify(value), { 'content-type': TYPES['.json'], ...headers });
const notFound = (res) => json(res, 404, { error: { code: 'not_found', message: 'no such file' } });

/** The file under `root` that a URL path names, or undefined when it names nothing servable. */
async function fileFor(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined; // malformed %-escape
  }
  if (decoded.includes('\0')) return undefined;
  const rel = decoded === '/' ? 'index.html' : decoded.slice(1);
  // resolve() collapses any ../ (escaped or not, since we decoded first); whatever ends up
  // outside root is refused, and so are dot-files.
  const file = resolve(root, rel);
  if (!file.startsWith(root + sep) || file.slice(root.length).split(sep).some((part) => part.startsWith('.'))) return undefined;
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? { file, size: info.size } : undefined;
}

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return json(res, 405, { error: { code: 'method_not_allowed', message: 'only GET and HEAD' } }, { allow: 'GET, HEAD' });
  }
  const { pathname } = new URL(req.url ?? '/', 'http://x');
  if (pathname === '/healthz') return json(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
  // no-store: a changed deployment (new service URLs) must reach the next page load.
  if (pathname === '/config.json') return json(res, 200, config, { 'cache-control': 'no-store' });
  const found = await fileFor(pathname);
  if (!found) return notFound(res);
  res.writeHead(200, {
    ...securityHeaders,
    'content-type': TYPES[extname(found.file)] ?? 'application/octet-stream',
    'content-length': found.size,
    // File names carry no content hash, so the browser must revalidate every time.
    'cache-control': 'no-cache',
    ...(draining ? { connection: 'close' } : {}),
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(found.file)
    .on('error', () => res.destroy())
    .pipe(res);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    log('request failed', { err: String(err), url: req.url }, 50);
    if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: 'internal error' } });
    else res.destroy();
  });
});

server.listen(port, host, () => {
  const addr = server.address();
  log('listening', { url: `http://${host}:${addr.port}`, root, ...config });
});

function drain(signal) {
  if (draining) return;
  draining = true;
  log('draining', { signal });
  server.close(() => {
    log('stopped');
    process.exit(0);
  });
  // Keep-alive sockets with no request in flight would hold close() open: end them now; busy
  // ones get `connection: close` on their response and end after it.
  server.closeIdleConnections();
  setTimeout(() => {
    log('drain timed out; closing the remaining connections');
    server.closeAllConnections();
    process.exit(0);
  }, DRAIN_TIMEOUT_MS).unref();
}
process.on('SIGTERM', () => drain('SIGTERM'));
process.on('SIGINT', () => drain('SIGINT'));
