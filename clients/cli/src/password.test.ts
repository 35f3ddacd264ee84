import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { UsageError } from './args.ts';
import { CliError } from './errors.ts';
import { obtainPassword, readHidden } from './password.ts';

/** A terminal as readHidden sees it: raw mode switches and typed chunks. */
class FakeTty extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  setRawMode(mode: boolean) {
    this.raw.push(mode);
  }
  setEncoding() {}
  resume() {}
  pause() {}
  type(...chunks: string[]) {
    for (const c of chunks) this.emit('data', c);
  }
}

const sink = () => {
  let text = '';
  return { write: (t: string) => (text += t), get text() { return text; } };
};

test('the flag wins, then CHAT_PASSWORD; nothing is asked', async () => {
  const tty = new FakeTty();
  assert.equal(await obtainPassword({ flag: 'from-flag', env: { CHAT_PASSWORD: 'from-env' }, stdin: tty, stderr: sink(), confirm: true }), 'from-flag');
  assert.equal(await obtainPassword({ env: { CHAT_PASSWORD: 'from-env' }, stdin: tty, stderr: sink(), confirm: true }), 'from-env');
  assert.deepEqual(tty.raw, []);
});

test('without a terminal to ask, a missing password is a usage error (no hang on stdin)', async () => {
  const pipe = Object.assign(new FakeTty(), { isTTY: false });
  await assert.rejects(obtainPassword({ env: { CHAT_PASSWORD: '' }, stdin: pipe, stderr: sink(), confirm: false }), (e: unknown) => e instanceof UsageError && /no password/.test(e.message));
});

test('typed without echo: the prompt goes to stderr, the characters nowhere; raw mode is restored', async () => {
  const tty = new FakeTty();
  const err = sink();
  const p = readHidden('Password: ', tty, err);
  // Paste in chunks, a backspace, an arrow key (ESC [ D) and Enter.
  tty.type('corr', 'ect horsX\u007f', 'e\u001b[D', '\r');
  assert.equal(await p, 'correct horse');
  assert.equal(err.text, 'Password: \n');
  assert.deepEqual(tty.raw, [true, false]);
  assert.equal(tty.listenerCount('data'), 0);
});

test('Ctrl-U clears the line; Ctrl-C cancels', async () => {
  const tty = new FakeTty();
  const p = readHidden('Password: ', tty, sink());
  tty.type('wrong\u0015right\n');
  assert.equal(await p, 'right');
  const cancelled = readHidden('Password: ', tty, sink());
  tty.type('abc\u0003');
  await assert.rejects(cancelled, (e: unknown) => e instanceof CliError && e.exitCode === 130);
  assert.deepEqual(tty.raw, [true, false, true, false]);
});

test('register asks twice and refuses two different answers', async () => {
  const tty = new FakeTty();
  const mismatch = obtainPassword({ env: {}, stdin: tty, stderr: sink(), confirm: true });
  tty.type('first one\r');
  await new Promise((r) => setImmediate(r));
  tty.type('second one\r');
  await assert.rejects(mismatch, (e: unknown) => e instanceof UsageError && /differ/.test(e.message));
  const same = obtainPassword({ env: {}, stdin: tty, stderr: sink(), confirm: true });
  tty.type('same pass\r');
  await new Promise((r) => setImmediate(r));
  tty.type('same pass\r');
  assert.equal(await same, 'same pass');
});
