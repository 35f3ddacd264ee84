/**
 * register, login, logout and the exit codes, against real Auth, Chat and Gateway processes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, repoRoot, startStack, uniqueName, type Stack } from '@chat/testkit';
import { assertExit, chatCommand, cliEnv, CliProcess, newConfigDir, runCli } from './cli.ts';

let stack: Stack;
let endpointFlags: string[];
before(async () => {
  stack = await startStack();
  endpointFlags = ['--auth', stack.auth.url, '--chat', stack.chat.url, '--gateway', stack.gateway.url.replace(/^http/, 'ws')];
});
after(async () => {
  await stack?.stop();
});

const PASSWORD = 'correct horse battery';
const mode = (path: string) => statSync(path).mode & 0o777;
const sessionFile = (dir: string) => join(dir, 'session.json');
const storedToken = (dir: string) => (JSON.parse(readFileSync(sessionFile(dir), 'utf8')) as { token: string }).token;

test('register, then login: a private session file, endpoints remembered, the token never printed', async () => {
  const dir = newConfigDir();
  const name = uniqueName('alice');

  const reg = await runCli(dir, ['register', name, '--password', PASSWORD, '--auth', stack.auth.url]);
  assertExit(reg, 0);
  assert.match(reg.stdout, new RegExp(`^Registered ${name}\\. Log in with: pnpm chat login ${name}\\n$`));

  // The password from the environment this time, and every endpoint given as a flag.
  const login = await runCli(dir, ['login', name, ...endpointFlags], { env: { CHAT_PASSWORD: PASSWORD } });
  assertExit(login, 0);
  assert.match(login.stdout, new RegExp(`^Logged in as ${name} until .+\\. The session is stored in ${sessionFile(dir)}, readable only by you\\.\\n$`));
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(sessionFile(dir)), 0o600);
  const token = storedToken(dir);
  assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  for (const out of [reg.stdout, reg.stderr, login.stdout, login.stderr]) {
    assert.ok(!out.includes(token) && !out.includes(PASSWORD), 'neither the token nor the password is printed');
  }

  // --json: who, until when, where; still no token.
  const again = await runCli(dir, ['login', name, '--json', ...endpointFlags], { env: { CHAT_PASSWORD: PASSWORD } });
  assertExit(again, 0);
  const json = JSON.parse(again.stdout) as { user: { username: string }; expiresAt: string; endpoints: { chatUrl: string } };
  assert.equal(json.user.username, name);
  assert.ok(Date.parse(json.expiresAt) > Date.now());
  assert.equal(json.endpoints.chatUrl, stack.chat.url);
  assert.ok(!again.stdout.includes(storedToken(dir)));

  // No flags and no environment: the endpoints login stored are used.
  const convs = await runCli(dir, ['conversations']);
  assertExit(convs, 0);
  assert.match(convs.stdout, /^No conversations yet\./);
});

test('a wrong password is refused (exit 2) in plain words, and nothing is stored', async () => {
  const name = uniqueName('bob');
  assertExit(await runCli(newConfigDir(), ['register', name, '--password', PASSWORD, ...endpointFlags]), 0);
  const dir = newConfigDir();
  const res = await runCli(dir, ['login', name, '--password', 'not the password', ...endpointFlags]);
  assertExit(res, 2);
  assert.equal(res.stderr, 'Wrong username or password.\n');
  assert.equal(res.stdout, '');
  assert.throws(() => statSync(sessionFile(dir)), /ENOENT/);

  const taken = await runCli(newConfigDir(), ['register', name, '--password', PASSWORD, ...endpointFlags]);
  assertExit(taken, 2);
  assert.equal(taken.stderr, 'That username is taken. Pick another one.\n');

  const short = await runCli(newConfigDir(), ['register', uniqueName('c'), '--password', 'short', ...endpointFlags]);
  assertExit(short, 2);
  assert.match(short.stderr, /^Password must be .*8/i);
});

test('a server that does not answer is exit 3', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const res = await runCli(newConfigDir(), ['login', 'anyone', '--password', PASSWORD, '--auth', closed]);
  assertExit(res, 3);
  assert.equal(res.stderr, `Cannot reach the server (${closed}). Check that it is running.\n`);

  // A logged-in send to a Chat that is not there: one retry (same message id), then exit 3.
  const dir = newConfigDir();
  const name = uniqueName('dan');
  assertExit(await runCli(dir, ['register', name, '--password', PASSWORD, ...endpointFlags]), 0);
  assertExit(await runCli(dir, ['login', name, '--password', PASSWORD, ...endpointFlags]), 0);
  const send = await runCli(dir, ['send', name, 'hello'], { env: { CHAT_CHAT_URL: closed } });
  assertExit(send, 3);
  assert.match(send.stderr, /^Cannot reach the server .* Trying once more .*\nCannot reach the server/);
});

test('usage errors are exit 1 and say what is wrong', async () => {
  const dir = newConfigDir();
  const cases: [string[], RegExp][] = [
    [[], /^chat: the terminal client for chat-k8s\n/],
    [['sned', 'bob', 'hi'], /^chat: unknown command "sned"\nRun "pnpm chat help" for usage\.\n$/],
    [['send', 'bob'], /^chat: missing arguments; usage: pnpm chat send <to> <text…>\n/],
    [['history', 'bob', '--limit', '0'], /^chat: --limit must be a whole number from 1 to 100\n/],
    [['send', 'bob', 'hi', '--chat', 'localhost:5002'], /^chat: --chat: "localhost:5002" must start with http:\/\/ or https:\/\//],
    // No password given and no terminal to ask on: refused at once rather than waiting on stdin.
    [['login', 'bob', '--auth', stack.auth.url], /^chat: no password: give --password <password>, set CHAT_PASSWORD, or run in a terminal to be asked\n/],
  ];
  for (const [args, stderr] of cases) {
    const res = await runCli(dir, args);
    assertExit(res, 1);
    assert.match(res.stderr, stderr, args.join(' '));
    assert.equal(res.stdout, '', args.join(' '));
  }
  const help = await runCli(dir, ['help']);
  assertExit(help, 0);
  assert.match(help.stdout, /^chat: the terminal client for chat-k8s\n\nUsage: pnpm chat <command>/);
  assert.match(help.stdout, /^Exit codes:$/m);
});

test('a session the server no longer accepts: exit 2 and "log in again"; logout forgets it', async () => {
  const dir = newConfigDir();
  const name = uniqueName('erin');
  assertExit(await runCli(dir, ['register', name, '--password', PASSWORD, ...endpointFlags]), 0);
  assertExit(await runCli(dir, ['login', name, '--password', PASSWORD, ...endpointFlags]), 0);
  // Another signature on the same claims: what Chat and the gateway see for a forged or expired token.
  const session = JSON.parse(readFileSync(sessionFile(dir), 'utf8')) as { token: string };
  const [h, p] = session.token.split('.');
  writeFileSync(sessionFile(dir), JSON.stringify({ ...session, token: `${h}.${p}.${Buffer.alloc(64, 7).toString('base64url')}` }), { mode: 0o600 });

  for (const args of [['send', name, 'hi'], ['history', name], ['conversations'], ['listen']]) {
    const res = await runCli(dir, args);
    assertExit(res, 2);
    assert.match(res.stderr, /Your session has expired\. Please log in again/, args.join(' '));
  }

  const out = await runCli(dir, ['logout']);
  assertExit(out, 0);
  assert.equal(out.stdout, 'Logged out.\n');
  assert.throws(() => statSync(sessionFile(dir)), /ENOENT/);
  const none = await runCli(dir, ['send', name, 'hi']);
  assertExit(none, 2);
  assert.equal(none.stderr, 'You are not logged in. Log in first: pnpm chat login <username>\n');
  assert.equal((await runCli(dir, ['logout'])).stdout, 'You were not logged in.\n');
});

test('on a terminal the password is asked for without echo', async (t) => {
  // util-linux `script` gives the client a real pseudo-terminal.
  if (spawnSync('script', ['--version']).status !== 0) return t.skip('no `script` command for a pseudo-terminal');
  const name = uniqueName('tty');
  assertExit(await runCli(newConfigDir(), ['register', name, '--password', PASSWORD, ...endpointFlags]), 0);
  const dir = newConfigDir();
  const { command, args } = chatCommand();
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const line = [command, ...args, 'login', name, ...endpointFlags].map(quote).join(' ');
  const proc = spawn('script', ['-qec', line, '/dev/null'], { cwd: repoRoot(), env: cliEnv(dir), stdio: ['pipe', 'pipe', 'pipe'] });
  const cli = new CliProcess(proc);
  await cli.waitFor('the prompt', (p) => p.stdout.includes('Password: '));
  proc.stdin!.write(`${PASSWORD}\r`);
  const res = await cli.exited;
  proc.stdin!.end();
  assertExit(res, 0);
  assert.match(res.stdout, new RegExp(`Password: \\r?\\nLogged in as ${name} until`));
  assert.ok(!res.stdout.includes(PASSWORD), 'the typed password is not echoed');
  assert.equal(mode(sessionFile(dir)), 0o600);
});

test('`pnpm chat` passes every argument through; with --silent, stdout is only the output', async () => {
  const pnpm = join(repoRoot(), 'tools', 'bin', 'pnpm');
  const dir = newConfigDir();
  const name = uniqueName('pnpm');
  const run = (args: string[], env: Record<string, string> = {}) => spawnSync(pnpm, args, { cwd: repoRoot(), env: cliEnv(dir, env), encoding: 'utf8', timeout: 60_000 });

  const reg = run(['chat', 'register', name, '--password', PASSWORD, ...endpointFlags]);
  assert.equal(reg.status, 0, reg.stderr);
  assert.match(reg.stdout, new RegExp(`^Registered ${name}\\.`, 'm'));

  const login = run(['--silent', 'chat', 'login', name, '--json', ...endpointFlags], { CHAT_PASSWORD: PASSWORD });
  assert.equal(login.status, 0, login.stderr);
  assert.equal((JSON.parse(login.stdout) as { user: { username: string } }).user.username, name, 'stdout is exactly the JSON line');

  // Quoting survives pnpm: several words, a quoted phrase, shell metacharacters.
  const send = run(['--silent', 'chat', 'send', name, 'hi', 'there,', 'it’s $HOME `x` "q"', '--json']);
  assert.equal(send.status, 0, send.stderr);
  assert.equal((JSON.parse(send.stdout) as { message: { text: string } }).message.text, 'hi there, it’s $HOME `x` "q"');

  // Exit codes come through pnpm unchanged.
  assert.equal(run(['--silent', 'chat', 'send', name]).status, 1);
  assert.equal(run(['--silent', 'chat', 'login', name, '--password', 'wrong password', ...endpointFlags]).status, 2);
});
