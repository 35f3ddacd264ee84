/**
 * `make up`: auth, chat and gateway in the foreground against the infrastructure whose URLs
 * `make` put in MONGO_URL / AMQP_URL, each log line prettified and prefixed with its service.
 * Ctrl-C (or SIGTERM) drains all three and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { prettyFactory } from 'pino-pretty';
import { repoRoot, waitFor } from '@chat/testkit';

const ports = {
  auth: Number(process.env.AUTH_PORT ?? 5001),
  chat: Number(process.env.CHAT_PORT ?? 5002),
  gateway: Number(process.env.GATEWAY_PORT ?? 5003),
};
for (const v of ['MONGO_URL', 'AMQP_URL']) {
  if (!process.env[v]) {
    console.error(`${v} is not set: run this through \`make up\`, which starts the infrastructure first.`);
    process.exit(2);
  }
}
const authUrl = `http://127.0.0.1:${ports.auth}`;
const chatUrl = `http://127.0.0.1:${ports.chat}`;
const colors = { auth: '\x1b[36m', chat: '\x1b[35m', gateway: '\x1b[33m' } as const;
const pretty = prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' });
const children: ChildProcess[] = [];

function run(name: keyof typeof ports, extraEnv: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'src/index.ts'], {
    cwd: join(repoRoot(), 'services', name),
    env: { NODE_ENV: 'development', ...process.env, ...extraEnv, PORT: String(ports[name]) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

run('auth', {});
await healthy(authUrl, 'auth');
run('chat', { AUTH_URL: authUrl });
await healthy(chatUrl, 'chat');
run('gateway', { AUTH_URL: authUrl, CHAT_URL: chatUrl });
await healthy(`http://127.0.0.1:${ports.gateway}`, 'gateway');

console.log(`
  Everything is up. Connect to:
    Auth     ${authUrl}         POST /register, POST /login, GET /.well-known/jwks.json
    Chat     ${chatUrl}         POST /chat/send, GET /chat/history, GET /chat/sync
    Gateway  ws://127.0.0.1:${ports.gateway}/?token=<JWT>
    Metrics  /metrics on each port
  MongoDB-wire: ${process.env.MONGO_URL}   RabbitMQ: ${(process.env.AMQP_URL ?? '').replace(/\/\/[^@]*@/, '//***@')}
  Ctrl-C stops all three.
`);
