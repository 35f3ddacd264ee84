/**
 * send, listen, history, conversations and the group commands as separate client processes
 * against a real stack. The gateway replays at most REPLAY_LIMIT=5 messages here, so a listen
 * that missed more has to take the catch-up-from-Chat path, and that path is exercised too.
 * CONVERSATION_ACTIVITY_INTERVAL_MS=10 (its minimum): Chat's conversation list catches up with
 * each message within 10 ms, well before the next client process has started (by default its
 * order and last message may lag by up to a second, which a person does not notice and a test
 * that lists right after sending would).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request, startStack, uniqueName, waitFor, type Stack } from '@chat/testkit';
import type { ChatMessage, ConversationListEntry, GroupConversation } from '@chat/client-core';
import { assertExit, messageLine, runCli, startCli, type CliProcess, cliUser as cliUserOf, type CliUser, cliSend } from './cli.ts';

const REPLAY_LIMIT = 5;
let stack: Stack;
before(async () => {
  stack = await startStack({ env: { REPLAY_LIMIT: String(REPLAY_LIMIT), CONVERSATION_ACTIVITY_INTERVAL_MS: '10' } });
});
after(async () => {
  await stack?.stop();
});

const cliUser = (prefix: string) => cliUserOf(stack, prefix);

const send = cliSend;

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

/**
 * The unread column of `conversations`, `(2)`: there only when something is unread, and only
 * from a Chat that counts unread messages (issue 14; receipts.test.ts checks the counts).
 */
const UNREAD = '(\\(\\d+\\) +)?';

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
  assert.match(lines[0]!, new RegExp(`^${bob.name} +${UNREAD}[\\d:]+ {2}${bob.name}: bob again$`));
  assert.match(lines[1]!, new RegExp(`^${carol.name} +${UNREAD}[\\d:]+ {2}${carol.name}: from carol$`));

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

/** `pnpm chat <args> --json` as `u`, exit 0, one JSON value per stdout line. */
async function json<T>(u: CliUser, args: string[]): Promise<T[]> {
  const res = await runCli(u.dir, [...args, '--json']);
  assertExit(res, 0);
  return res.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as T);
}

/** A group line as send, history and listen print it. */
const groupLine = (from: string, group: string, text: string) => messageLine(from, `#${group}`, text);
/** A system message's line: `12:03:04  #Team  * alice added bob` (the sentence is Chat's). */
const systemLine = (group: string, sentence: RegExp) => new RegExp(`^(\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d {2}#${group} {2}\\* ${sentence.source}$`, 'm');

test('a group: created with two members, sent to by #name and by id, printed by listen with its name, in history and in conversations', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const carol = await cliUser('carol');
  const name = uniqueName('team');
  const listen = startCli(bob.dir, ['listen']);
  await listen.waitFor('live', isLive);

  const [group] = await json<GroupConversation>(alice, ['group', 'create', name, bob.name, carol.name]);
  assert.match(group!.id, /^g:[0-9a-f]{24}$/);
  assert.equal(group!.name, name);
  assert.deepEqual(group!.members.map((m) => [m.username, m.role]).sort(), [[alice.name, 'owner'], [bob.name, 'member'], [carol.name, 'member']].sort());
  await listen.waitFor('the created notice', (p) => systemLine(name, new RegExp(`.*${alice.name}.*`)).test(p.stdout));

  const byName = await runCli(alice.dir, ['send', `#${name}`, 'hello', 'team']);
  assertExit(byName, 0);
  assert.match(byName.stdout, groupLine(alice.name, name, 'hello team'));
  const [byId] = await json<{ created: boolean; message: ChatMessage }>(carol, ['send', group!.id, 'hi from carol']);
  assert.equal(byId!.message.conversationId, group!.id);
  assert.equal(byId!.message.to, undefined, 'a group message has no recipient');
  await listen.waitFor('both messages', (p) => groupLine(alice.name, name, 'hello team').test(p.stdout) && groupLine(carol.name, name, 'hi from carol').test(p.stdout));

  // History by name: the created notice, then the two messages, oldest first.
  const history = await runCli(carol.dir, ['history', `#${name}`]);
  assertExit(history, 0);
  const lines = history.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3, history.stdout);
  assert.match(lines[0]!, systemLine(name, /.+/));
  assert.match(lines[1]!, groupLine(alice.name, name, 'hello team'));
  assert.match(lines[2]!, groupLine(carol.name, name, 'hi from carol'));
  const page = await json<ChatMessage>(bob, ['history', group!.id, '--limit', '2']);
  assert.deepEqual(page.map((m) => m.text), ['hello team', 'hi from carol']);

  // The list: the group, newest activity first, beside a 1:1.
  await send(bob, alice, 'a direct one first');
  const [lastInGroup] = await json<{ message: ChatMessage }>(alice, ['send', group!.id, 'and the group last']);
  const human = await runCli(bob.dir, ['conversations']);
  assertExit(human, 0);
  const rows = human.stdout.trimEnd().split('\n');
  assert.equal(rows.length, 2, human.stdout);
  assert.match(rows[0]!, new RegExp(`^#${name} +${UNREAD}[\\d:]+ {2}${alice.name}: and the group last$`));
  assert.match(rows[1]!, new RegExp(`^${alice.name} +[\\d:]+ {2}you: a direct one first$`));
  const list = await json<ConversationListEntry & { peer?: string }>(bob, ['conversations']);
  assert.equal(list[0]!.type, 'group');
  const entry = list[0] as Extract<ConversationListEntry, { type: 'group' }>;
  assert.deepEqual([entry.id, entry.name, entry.role], [group!.id, name, 'member']);
  assert.deepEqual(entry.lastMessage, lastInGroup!.message);
  assert.equal(list[1]!.peer, alice.name, 'a 1:1 keeps its peer as the username');
  assert.match(list[1]!.id, /^dm:/);

  // One listen, both kinds: 1:1 lines keep their shape beside the group's.
  await listen.waitFor('the 1:1 and the last group message', (p) => messageLine(bob.name, alice.name, 'a direct one first').test(p.stdout) && groupLine(alice.name, name, 'and the group last').test(p.stdout));
  assert.equal((await listen.kill('SIGTERM')).code, 0);
  assert.equal(listen.lines.length, 5, 'created, three group messages and the 1:1, each once');
});

test('group roles: a member is refused in words, an admin manages members and the name, only the owner changes roles; leaving and removal end access', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const carol = await cliUser('carol');
  const dave = await cliUser('dave');
  const name = uniqueName('crew');
  const [group] = await json<GroupConversation>(alice, ['group', 'create', name, bob.name, carol.name]);
  const id = group!.id;
  const forbidden = 'Your role in this group does not allow that.\n';

  for (const args of [['group', 'rename', id, 'nope'], ['group', 'add', name, dave.name], ['group', 'remove', name, carol.name], ['group', 'role', name, carol.name, 'admin']]) {
    const res = await runCli(bob.dir, args);
    assertExit(res, 2);
    assert.equal(res.stderr, forbidden, args.join(' '));
  }

  const promoted = await runCli(alice.dir, ['group', 'role', name, bob.name, 'admin']);
  assertExit(promoted, 0);
  assert.match(promoted.stdout, new RegExp(`^ +${bob.name} +admin$`, 'm'));

  const [added] = await json<GroupConversation>(bob, ['group', 'add', `#${name}`, dave.name]);
  assert.equal(added!.members.length, 4);
  const renamed = `${name}-2`;
  const [after] = await json<GroupConversation>(bob, ['group', 'rename', id, renamed]);
  assert.equal(after!.name, renamed);
  const roleByAdmin = await runCli(bob.dir, ['group', 'role', renamed, dave.name, 'admin']);
  assertExit(roleByAdmin, 2);
  assert.equal(roleByAdmin.stderr, forbidden);
  const removed = await runCli(bob.dir, ['group', 'remove', renamed, carol.name]);
  assertExit(removed, 0);
  assert.doesNotMatch(removed.stdout, new RegExp(carol.name));

  // Carol, removed, can neither read nor send; Chat does not say whether the group exists.
  const notIn = 'There is no such conversation, or you are not in it.\n';
  for (const args of [['send', id, 'still here?'], ['history', id], ['group', 'show', id]]) {
    const res = await runCli(carol.dir, args);
    assertExit(res, 2);
    assert.equal(res.stderr, notIn, args.join(' '));
  }
  const byName = await runCli(carol.dir, ['send', `#${renamed}`, 'hello?']);
  assertExit(byName, 2);
  assert.match(byName.stderr, new RegExp(`You are in no group named "${renamed}"`));

  const left = await runCli(dave.dir, ['group', 'leave', `#${renamed}`]);
  assertExit(left, 0);
  assert.equal(left.stdout, `You left #${renamed}.\n`);
  assertExit(await runCli(dave.dir, ['history', id]), 2);
  const self = await runCli(alice.dir, ['group', 'remove', id, alice.name]);
  assertExit(self, 1);
  assert.match(self.stderr, /to remove yourself, leave the group/);

  const show = await runCli(alice.dir, ['group', 'show', renamed]);
  assertExit(show, 0);
  assert.equal(show.stdout, `#${renamed} (${id}), 2 members\n  ${alice.name.padEnd(Math.max(alice.name.length, bob.name.length))}  owner\n  ${bob.name.padEnd(Math.max(alice.name.length, bob.name.length))}  admin\n`);

  // Every change is in the history as Chat's own sentence, in order.
  const events = await json<ChatMessage>(alice, ['history', id]);
  assert.deepEqual(events.filter((m) => m.kind === 'system').map((m) => m.event), ['created', 'role_changed', 'member_added', 'renamed', 'member_removed', 'member_left']);
});

test('listen --json prints group and system messages as the API shows them, and resumes them after a kill', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const first = startCli(bob.dir, ['listen', '--json']);
  await first.waitFor('live', isLive);
  const position = storedCursor(bob);
  const [group] = await json<GroupConversation>(alice, ['group', 'create', uniqueName('g'), bob.name]);
  await first.waitFor('the created message', (p) => p.lines.length === 1);
  await cursorStoredAfter(bob, position);
  assert.deepEqual([jsonLines(first)[0]!.kind, jsonLines(first)[0]!.event, jsonLines(first)[0]!.conversationId], ['system', 'created', group!.id]);
  await first.kill('SIGKILL');

  const sent: ChatMessage[] = [];
  for (const text of ['g1', 'g2', 'g3']) sent.push((await json<{ message: ChatMessage }>(alice, ['send', group!.id, text]))[0]!.message);
  const second = startCli(bob.dir, ['listen', '--json']);
  await second.waitFor('the three', (p) => p.lines.length >= 3);
  assert.deepEqual(jsonLines(second), sent);
  await second.kill('SIGTERM');
});
