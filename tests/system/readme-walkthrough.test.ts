// The README's walkthrough, run exactly as written: the shell block between the
// `walkthrough:start` and `walkthrough:end` markers is executed by bash against a real stack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, startStack, type Stack } from '@chat/testkit';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

export function walkthroughScript(readme: string): string {
  const m = /<!-- walkthrough:start -->\s*```(?:sh|bash)\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!m) throw new Error('README.md has no walkthrough block between <!-- walkthrough:start --> and <!-- walkthrough:end -->');
  return m[1]!;
}

test('the README walkthrough registers, logs in, connects, sends and receives', () => {
  const script = walkthroughScript(readFileSync(join(repoRoot(), 'README.md'), 'utf8'));
  const res = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    env: { ...process.env, AUTH: stack.auth.url, CHAT: stack.chat.url, GATEWAY: stack.gateway.url.replace(/^http/, 'ws') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const out = `${res.stdout}\n${res.stderr}`;
  assert.equal(res.status, 0, out);
  // Bob's socket printed the ready frame and then Alice's message, pushed by the gateway.
  assert.match(res.stdout, /"type":"ready"/, out);
  assert.match(res.stdout, /"type":"new_message".*"text":"hello bob"/, out);
  // Alice's send answered 201 with the stored message.
  assert.match(res.stdout, /"message":\{"id":"[^"]+","conversationId":"dm:[^"]+","from":"alice","to":"bob","text":"hello bob"/, out);
  assert.match(res.stdout, /bob received: \{"type":"new_message","message":\{[^\n]*"conversationId":"g:[^"]+"[^\n]*"kind":"system","event":"created"/, out);
  assert.match(res.stdout, /bob received: \{"type":"new_message","message":\{"id":"[^"]+","conversationId":"g:[^"]+","from":"alice","text":"hello group"/, out);
  assert.match(res.stdout, /\{"conversations":\[\{"id":"g:[^"]+","type":"group","name":"weekend"[^\n]*"lastMessage":\{[^\n]*"text":"hello group"/, out);
  // Bob's socket prints concurrently with curl, so a frame may share the answer's line.
  assert.match(res.stdout, /\{"readUpTo":"[0-9a-f]{24}","unread":0\}/, out);
  assert.match(res.stdout, /bob received: \{"type":"read","conversationId":"g:[^"]+","user":\{"id":"[^"]+","username":"bob"\},"readUpTo":"[0-9a-f]{24}","at":"[^"]+"\}/, out);
  assert.match(res.stdout, /\{"users":\[\{"username":"alice","status":"offline"\},\{"username":"bob","status":"online"\}\]\}/, out);
});
