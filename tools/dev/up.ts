/**
 * `make up`: auth, chat and gateway in the foreground against the infrastructure whose URLs
 * `make` put in MONGO_URL / AMQP_URL, plus the web page (built, then served by
 * clients/web/server.mjs), each log line prettified and prefixed with its process.
 * Ctrl-C (or SIGTERM) drains them all and exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { prettyFactory } from 'pino-pretty';
import { repoRoot, waitFor } from '@chat/testkit';

const ports = {
  auth: Number(process.env.AUTH_PORT ?? 5001),
  chat: Number(process.env.CHAT_PORT ?? 5002),
  gateway: Number(process.env.GATEWAY_PORT ?? 5003),
};
// /metrics is on a port of its own per service (METRICS_PORT), never on the ports above.
const metricsPorts = {
  auth: Number(process.env.AUTH_METRICS_PORT ?? 9101),
  chat: Number(process.env.CHAT_METRICS_PORT ?? 9102),
  gateway: Number(process.env.GATEWAY_METRICS_PORT ?? 9103),
};
const webPort = Number(process.env.WEB_PORT ?? 5000);
for (const v of ['MONGO_URL', 'AMQP_URL']) {
  if (!process.env[v]) {
    console.error(`${v} is not set: run this through \`make up\`, which starts the infrastructure first.`);
    process.exit(2);
  }
}
const authUrl = `http://127.0.0.1:${ports.auth}`;
const chatUrl = `http://127.0.0.1:${ports.chat}`;
const gatewayUrl = `ws://127.0.0.1:${ports.gateway}`;
const webUrl = `http://127.0.0.1:${webPort}`;
// The page calls the services from its own origin, under either name a browser may use for
// it: they answer CORS (Auth, Chat) and accept the WebSocket's Origin (Gateway) for exactly
// these, plus whatever the caller already listed.
const pageOrigins = [webUrl, `http://localhost:${webPort}`];
const withPageOrigins = (v: string | undefined) => [...new Set([...(v ?? '').split(',').map((s) => s.trim()).filter(Boolean), ...pageOrigins])].join(',');
const originEnv = { CORS_ORIGINS: withPageOrigins(process.env.CORS_ORIGINS), ALLOWED_ORIGINS: withPageOrigins(process.env.ALLOWED_ORIGINS) };
const colors = { auth: '\x1b[36m', chat: '\x1b[35m', gateway: '\x1b[33m', web: '\x1b[32m' } as const;
const pretty = prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' });
const children: ChildProcess[] = [];

function run(name: keyof typeof ports, extraEnv: Record<string, string>): ChildProcess {
  return spawnLogged(name, ['--conditions=development', '--import', 'tsx', 'src/index.ts'], join(repoRoot(), 'services', name), {
    NODE_ENV: 'development',
    ...process.env,
    ...originEnv,
    ...extraEnv,
    PORT: String(ports[name]),
    METRICS_PORT: String(metricsPorts[name]),
  });
}

function spawnLogged(name: keyof typeof colors, args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tag = `${colors[name]}${name.padEnd(7)}\x1b[0m `;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      let out = line;
      if (line.startsWith('{')) {
        try {
          out = pretty(JSON.parse(line)).trimEnd();
        } catch {
          /* not JSON after all: print as is */
        }
      }
      process.stdout.write(`${tag}${out}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${tag}exited (${code ?? signal})\n`);
    if (!stopping) void stopAll(1);
  });
  children.push(child);
  return child;
}

async function healthy(url: string, what: string) {
  await waitFor(`${what} at ${url}/healthz`, async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, 60_000, 200);
}

let stopping = false;
async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

// The page first: a build error stops here, before anything is running.
const webDir = join(repoRoot(), 'clients', 'web');
if (spawnSync(process.execPath, ['build.mjs'], { cwd: webDir, stdio: 'inherit' }).status !== 0) {
  console.error('building the web page failed (clients/web/build.mjs)');
  process.exit(1);
}

run('auth', {});
await healthy(authUrl, 'auth');
run('chat', { AUTH_URL: authUrl });
await healthy(chatUrl, 'chat');
run('gateway', { AUTH_URL: authUrl, CHAT_URL: chatUrl });
await healthy(`http://127.0.0.1:${ports.gateway}`, 'gateway');

spawnLogged('web', ['server.mjs'], webDir, {
  ...process.env,
  PORT: String(webPort),
  HOST: '127.0.0.1',
  AUTH_PUBLIC_URL: authUrl,
  CHAT_PUBLIC_URL: chatUrl,
  GATEWAY_PUBLIC_URL: gatewayUrl,
});
await healthy(webUrl, 'web');

console.log(`
  Everything is up. Connect to:
    Web      ${webUrl}         open it in two tabs (or two browsers), register two users and chat
    Auth     ${authUrl}         POST /register, POST /login, GET /.well-known/jwks.json
    Chat     ${chatUrl}         POST /chat/send, GET /chat/history, GET /chat/sync
    Gateway  ${gatewayUrl}/?token=<JWT>
    Metrics  http://127.0.0.1:${metricsPorts.auth}/metrics  http://127.0.0.1:${metricsPorts.chat}/metrics  http://127.0.0.1:${metricsPorts.gateway}/metrics
  MongoDB-wire: ${process.env.MONGO_URL}   RabbitMQ: ${(process.env.AMQP_URL ?? '').replace(/\/\/[^@]*@/, '//***@')}
  Ctrl-C stops them all.
`);
