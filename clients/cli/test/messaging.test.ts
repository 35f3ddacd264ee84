/**
 * send, listen, history and conversations as separate client processes against a real stack.
 * The gateway replays at most REPLAY_LIMIT=5 messages here, so a listen that missed more has to
 * take the catch-up-from-Chat path, and that path is exercised too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { registerAndLogin, request, startStack, uniqueName, waitFor, type Stack } from '@chat/testkit';
import type { ChatMessage } from '@chat/client-core';
import { assertExit, messageLine, newConfigDir, runCli, startCli, type CliProcess } from './cli.ts';

const REPLAY_LIMIT = 5;
let stack: Stack;
before(async () => {
  stack = await startStack({ env: { REPLAY_LIMIT: String(REPLAY_LIMIT) } });
});
after(async () => {
  await stack?.stop();
});

interface CliUser {
  name: string;
  token: string;
  dir: string;
}

/** A registered user logged in through the client, in its own config directory. */
async function cliUser(prefix: string): Promise<CliUser> {
  const u = await registerAndLogin(stack.auth.url, uniqueName(prefix));
  const dir = newConfigDir();
  const gateway = stack.gateway.url.replace(/^http/, 'ws');
  assertExit(await runCli(dir, ['login', u.username, '--password', u.password, '--auth', stack.auth.url, '--chat', stack.chat.url, '--gateway', gateway]), 0);
  return { name: u.username, token: u.token, dir };
}

/** Sends through the client with --json and returns the stored message. */
async function send(from: CliUser, to: CliUser, text: string): Promise<ChatMessage> {
  const res = await runCli(from.dir, ['send', to.name, text, '--json']);
  assertExit(res, 0);
  const out = JSON.parse(res.stdout) as { created: boolean; message: ChatMessage };
  assert.equal(out.created, true);
  return out.message;
}

/** The stored listen position (its file's text; the cursor itself is opaque). */
const storedCursor = (u: CliUser): string | undefined => {
  try {
    return readFileSync(join(u.dir, 'listen-cursor.json'), 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * Waits until listen has stored a position other than `previous`. A line shows up on stdout a
 * moment before its cursor is stored; a test that kills listen must wait for the store, or it
 * tests the one repeat the design allows (a kill between the two) instead of the resume.
 */
const cursorStoredAfter = (u: CliUser, previous: string | undefined) => waitFor('listen to store its position', () => {
  const now = storedCursor(u);
  return now !== previous ? now : undefined;
});

const isLive = (p: CliProcess) => p.stderr.includes('-- Live: new messages appear as they arrive.');
const jsonLines = (p: CliProcess) => p.lines.map((l) => JSON.parse(l) as ChatMessage);

test('listen in one process prints what send in another sends', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const listen = startCli(bob.dir, ['listen']);
  await listen.waitFor('live', isLive);
  assert.match(listen.stderr, new RegExp(`^Listening as ${bob.name}, from now on\\.`));

  const sent = await runCli(alice.dir, ['send', bob.name, 'hello', 'bob']);
  assertExit(sent, 0);
  assert.match(sent.stdout, messageLine(alice.name, bob.name, 'hello bob'));
  await listen.waitFor('alice’s message', (p) => messageLine(alice.name, bob.name, 'hello bob').test(p.stdout));

  // The sender's own messages show too (every device of both users receives them).
  assertExit(await runCli(bob.dir, ['send', alice.name, 'hi alice']), 0);
  await listen.waitFor('bob’s reply', (p) => messageLine(bob.name, alice.name, 'hi alice').test(p.stdout));

  const end = await listen.kill('SIGINT');
  assert.equal(end.code, 0, end.stderr);
  assert.equal(listen.lines.length, 2, 'stdout holds the messages and nothing else');
});

test('listen --json prints each message as one JSON object per line', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const listen = startCli(bob.dir, ['listen', '--json']);
  await listen.waitFor('live', isLive);
  const m1 = await send(alice, bob, 'first, with "quotes"');
  const m2 = await send(alice, bob, 'second\nwith a newline');
  await listen.waitFor('two lines', (p) => p.lines.length >= 2);
  assert.deepEqual(jsonLines(listen), [m1, m2]);
  assert.equal((await listen.kill('SIGTERM')).code, 0);
});

test('listen killed and restarted resumes from its stored cursor: every message once, in order', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const sent: ChatMessage[] = [];

  const first = startCli(bob.dir, ['listen', '--json']);
  await first.waitFor('live', isLive);
  let position = storedCursor(bob);
  sent.push(await send(alice, bob, 'm1'));
  await first.waitFor('m1', (p) => p.lines.length === 1);
  position = await cursorStoredAfter(bob, position);
  sent.push(await send(bob, alice, 'm2'));
  await first.waitFor('m2', (p) => p.lines.length === 2);
  await cursorStoredAfter(bob, position);
  assert.equal((await first.kill('SIGKILL')).signal, 'SIGKILL');

  // While nobody listens (fewer than the gateway replays).
  for (const text of ['m3', 'm4', 'm5']) sent.push(await send(alice, bob, text));

  const second = startCli(bob.dir, ['listen', '--json']);
  // Sent while the second run is still starting: it must come either replayed or live, once.
  sent.push(await send(alice, bob, 'm6'));
  await second.waitFor('live', isLive);
  assert.match(second.stderr, /going on from where the last listen stopped/);
  sent.push(await send(alice, bob, 'm7'));
  await second.waitFor('m3 to m7', (p) => p.lines.length >= 5);

  const printed = [...jsonLines(first), ...jsonLines(second)];
  assert.deepEqual(printed.map((m) => m.text), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  assert.deepEqual(printed, sent);
  assert.equal((await second.kill('SIGTERM')).code, 0);
  assert.equal(second.lines.length, 5, 'nothing more arrived after m7');
});

test('a listen that missed more than the gateway replays reads the rest from Chat, then goes on live', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const first = startCli(bob.dir, ['listen', '--json']);
  await first.waitFor('live', isLive);
  const position = storedCursor(bob);
  const sent = [await send(alice, bob, 'before')];
  await first.waitFor('one line', (p) => p.lines.length === 1);
  await cursorStoredAfter(bob, position);
  await first.kill('SIGKILL');

  // Straight to Chat's API: the volume matters here, not the sending client.
  for (let i = 1; i <= REPLAY_LIMIT + 3; i++) {
    const res = await request(`${stack.chat.url}/chat/send`, { token: alice.token, body: { to: bob.name, text: `missed ${i}` } });
    assert.equal(res.status, 201, res.text);
    sent.push(res.body.message as ChatMessage);
  }

  const second = startCli(bob.dir, ['listen', '--json']);
  await second.waitFor('live', isLive);
  assert.match(second.stderr, /More was missed than the gateway replays; reading it from Chat/);
  sent.push(await send(alice, bob, 'live again'));
  await second.waitFor('all of them', (p) => p.lines.length === sent.length - 1);
  assert.deepEqual([...jsonLines(first), ...jsonLines(second)], sent);
  await second.kill('SIGTERM');
});

test('a reader that goes away (listen | head -1) ends listen quietly, and the next run prints what it missed', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const first = startCli(bob.dir, ['listen', '--json']);
  await first.waitFor('live', isLive);
  const m1 = await send(alice, bob, 'read');
  await first.waitFor('m1', (p) => p.lines.length === 1);
  first.proc.stdout!.destroy(); // as `head -1` exits after its line
  const m2 = await send(alice, bob, 'never read');
  const end = await first.exited;
  assert.equal(end.code, 0, end.stderr);
  assert.deepEqual(jsonLines(first), [m1]);

  const second = startCli(bob.dir, ['listen', '--json']);
  await second.waitFor('m2', (p) => p.lines.length === 1);
  assert.deepEqual(jsonLines(second), [m2], 'the line that could not be written was not counted as shown');
  await second.kill('SIGTERM');
});

test('history shows a conversation oldest first and pages back with --before', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const sent = [await send(alice, bob, 'one'), await send(bob, alice, 'two'), await send(alice, bob, 'three')];

  const all = await runCli(bob.dir, ['history', alice.name]);
  assertExit(all, 0);
  const lines = all.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, messageLine(alice.name, bob.name, 'one'));
  assert.match(lines[1]!, messageLine(bob.name, alice.name, 'two'));
  assert.match(lines[2]!, messageLine(alice.name, bob.name, 'three'));
  assert.equal(all.stderr, '');

  // A page of two, and the command for the page before it on stderr.
  const page = await runCli(bob.dir, ['history', alice.name, '--limit', '2', '--json']);
  assertExit(page, 0);
  assert.deepEqual(page.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as ChatMessage), sent.slice(1));
  const next = /^Older messages: pnpm chat history (\S+) --limit 2 --before (\S+)$/m.exec(page.stderr);
  assert.ok(next, page.stderr);
  const older = await runCli(bob.dir, ['history', next[1]!, '--limit', '2', '--before', next[2]!, '--json']);
  assertExit(older, 0);
  assert.deepEqual(older.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as ChatMessage), sent.slice(0, 1));
  assert.equal(older.stderr, '', 'no page before the first');

  const nobody = await runCli(bob.dir, ['history', uniqueName('nobody')]);
  assertExit(nobody, 2);
  assert.equal(nobody.stderr, 'There is no user with that name.\n');
});

test('conversations lists each peer once, most recent first, with the last message', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const carol = await cliUser('carol');
  await send(alice, bob, 'to bob');
  await send(carol, alice, 'from carol');
  const last = await send(bob, alice, 'bob again');

  const human = await runCli(alice.dir, ['conversations']);
  assertExit(human, 0);
  const lines = human.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, new RegExp(`^${bob.name} +[\\d:]+ {2}${bob.name}: bob again$`));
  assert.match(lines[1]!, new RegExp(`^${carol.name} +[\\d:]+ {2}${carol.name}: from carol$`));

  const json = await runCli(alice.dir, ['conversations', '--json']);
  assertExit(json, 0);
  const list = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { peer: string; lastMessage: ChatMessage });
  assert.deepEqual(list.map((c) => c.peer), [bob.name, carol.name]);
  assert.deepEqual(list[0]!.lastMessage, last);

  const mine = await runCli(bob.dir, ['conversations']);
  assert.match(mine.stdout, new RegExp(`^${alice.name} +[\\d:]+ {2}you: bob again\\n$`));
});

/**
 * A stand-in for Chat that forwards to the real one, but spoils the first send: `lose-answer`
 * lets Chat store it and then cuts the connection before the answer reaches the client;
 * `unavailable` answers 503 without forwarding.
 */
async function faultyChat(mode: 'lose-answer' | 'unavailable'): Promise<{ url: string; sends: { clientMsgId: string }[]; server: Server }> {
  const sends: { clientMsgId: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', async () => {
      const isSend = req.url === '/chat/send';
      if (isSend) sends.push(JSON.parse(body) as { clientMsgId: string });
      if (isSend && sends.length === 1 && mode === 'unavailable') {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable","message":"database unavailable"}}');
        return;
      }
      const upstream = await fetch(`${stack.chat.url}${req.url}`, { method: req.method, headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' }, body: req.method === 'GET' ? undefined : body });
      const text = await upstream.text();
      if (isSend && sends.length === 1 && mode === 'lose-answer') {
        req.socket.destroy(); // stored upstream, answer lost on the way back
        return;
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, sends, server };
}

for (const mode of ['lose-answer', 'unavailable'] as const) {
  test(`send retries once with the same message id and the message is stored once (${mode})`, async () => {
    const alice = await cliUser('alice');
    const bob = await cliUser('bob');
    const proxy = await faultyChat(mode);
    try {
      const res = await runCli(alice.dir, ['send', bob.name, 'exactly once'], { env: { CHAT_CHAT_URL: proxy.url } });
      assertExit(res, 0);
      assert.match(res.stderr, /Trying once more/);
      assert.match(res.stdout, messageLine(alice.name, bob.name, 'exactly once'));
      assert.equal(proxy.sends.length, 2);
      assert.equal(proxy.sends[0]!.clientMsgId, proxy.sends[1]!.clientMsgId);
      // After a lost answer Chat recognises the id and answers with the stored original.
      if (mode === 'lose-answer') assert.match(res.stderr, /already arrived on the first try; it is stored once/);
    } finally {
      proxy.server.close();
    }
    const history = await runCli(bob.dir, ['history', alice.name, '--json']);
    assertExit(history, 0);
    assert.deepEqual(history.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as ChatMessage).text), ['exactly once']);
  });
}
