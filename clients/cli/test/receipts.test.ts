/**
 * Issue 14 from the terminal: unread counts in `conversations`, `history` and `read` marking
 * read, "✓ seen", `receipts`, `presence`, and listen's typing/read/presence lines, as separate
 * client processes against a real stack.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, TestClient, waitFor, type Stack } from '@chat/testkit';
import { assertExit, runCli, startCli, cliUser as cliUserOf, type CliUser, cliSend } from './cli.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({ env: { CONVERSATION_ACTIVITY_INTERVAL_MS: '10', PRESENCE_GRACE_MS: '300' } });
});
after(async () => {
  await stack?.stop();
});

const cliUser = (prefix: string) => cliUserOf(stack, prefix);

const send = cliSend;

/** `conversations --json` as `u`: each entry's peer → its unread count and marks. */
async function listed(u: CliUser): Promise<Map<string, { unread: number; readUpTo: string | null; peerReadUpTo?: string | null }>> {
  const res = await runCli(u.dir, ['conversations', '--json']);
  assertExit(res, 0);
  return new Map(res.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)).map((e: { peer: string; unread: number; readUpTo: string | null; peerReadUpTo?: string | null }) => [e.peer, e]));
}

const unreadOf = async (u: CliUser, peer: string) => (await listed(u)).get(peer)?.unread;

test('unread counts, history and read mark read, and the sender sees "seen"', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  await send(alice, bob, 'hi bob');
  await send(bob, alice, 'one');
  const two = await send(bob, alice, 'two');
  await waitFor('two unread for alice', async () => ((await unreadOf(alice, bob.name)) === 2 ? true : undefined));

  const human = await runCli(alice.dir, ['conversations']);
  assert.match(human.stdout, new RegExp(`^${bob.name} +\\(2\\) +[\\d:]+ {2}${bob.name}: two$`, 'm'));

  assertExit(await runCli(alice.dir, ['history', bob.name, '--keep-unread']), 0);
  assert.equal(await unreadOf(alice, bob.name), 2, '--keep-unread leaves it unread');
  const history = await runCli(alice.dir, ['history', bob.name]);
  assertExit(history, 0);
  assert.equal(history.stderr, '');
  await waitFor('history to mark it read', async () => ((await unreadOf(alice, bob.name)) === 0 ? true : undefined));
  assert.equal((await listed(alice)).get(bob.name)!.readUpTo, two.id);
  const after = await runCli(alice.dir, ['conversations']);
  assert.match(after.stdout, new RegExp(`^${bob.name} +[\\d:]+ {2}${bob.name}: two$`, 'm'), 'no unread column when nothing is unread');

  // Bob's view: alice read his last message.
  const seen = await runCli(bob.dir, ['conversations']);
  assert.match(seen.stdout, new RegExp(`^${alice.name} +[\\d:]+ {2}you: two {2}✓ seen$`, 'm'));

  const three = await send(bob, alice, 'three');
  await waitFor('one unread', async () => ((await unreadOf(alice, bob.name)) === 1 ? true : undefined));
  const read = await runCli(alice.dir, ['read', bob.name, '--json']);
  assertExit(read, 0);
  assert.deepEqual(JSON.parse(read.stdout), { conversationId: three.conversationId, readUpTo: three.id, unread: 0 });
  const words = await runCli(alice.dir, ['read', bob.name]);
  assert.equal(words.stdout, `Marked read: ${bob.name}.\n`);

  const receipts = await runCli(bob.dir, ['receipts', alice.name]);
  assertExit(receipts, 0);
  assert.match(receipts.stdout, /^\S+: 2 members, 2 have read the newest message$/m);
  assert.match(receipts.stdout, new RegExp(`^  ${alice.name} +read the newest`, 'm'));
});

test('presence answers for contacts only; listen prints typing, read and presence on stderr, stdout stays messages', async () => {
  const alice = await cliUser('alice');
  const bob = await cliUser('bob');
  const stranger = await cliUser('stranger');
  const hello = await send(alice, bob, 'hello');

  const listen = startCli(alice.dir, ['listen']);
  await listen.waitFor('live', (p) => p.stderr.includes('-- Live: new messages appear as they arrive.'));
  const bobSocket = await TestClient.connect(stack.gateway.url, bob.token);
  await listen.waitFor('bob online', (p) => p.stderr.includes(`~ ${bob.name} is online`));

  const presence = await runCli(alice.dir, ['presence', bob.name, stranger.name]);
  assertExit(presence, 0);
  assert.match(presence.stdout, new RegExp(`^${bob.name} +online$`, 'm'));
  assert.match(presence.stdout, new RegExp(`^${stranger.name} +unknown \\(not a contact of yours, or no such user\\)$`, 'm'));

  bobSocket.ws.send(JSON.stringify({ type: 'typing', conversationId: hello.conversationId }));
  await listen.waitFor('typing', (p) => p.stderr.includes(`~ ${bob.name} is typing…`));
  assertExit(await runCli(bob.dir, ['read', alice.name]), 0);
  await listen.waitFor('read', (p) => p.stderr.includes(`~ ${bob.name} read`));

  bobSocket.ws.close();
  await listen.waitFor('bob offline', (p) => new RegExp(`~ ${bob.name} is offline \\(last seen [\\d:]+\\)`).test(p.stderr));
  const offline = await runCli(alice.dir, ['presence', bob.name, '--json']);
  const entry = JSON.parse(offline.stdout) as { status: string; lastSeen?: string };
  assert.equal(entry.status, 'offline');
  assert.ok(entry.lastSeen);

  assert.equal((await listen.kill('SIGINT')).code, 0);
  assert.equal(listen.lines.length, 0, 'stdout holds messages only, and none came');
});
