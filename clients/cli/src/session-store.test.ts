import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configDir, SessionStore, StoreFileError, type StoredSession } from './session-store.ts';

const root = mkdtempSync(join(tmpdir(), 'chat-cli-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `case${n++}`, 'nested', 'chat-k8s');
const mode = (path: string) => statSync(path).mode & 0o777;

const session: StoredSession = {
  token: 'header.payload.signature',
  user: { id: 'u1', username: 'alice' },
  expiresAt: '2030-01-01T00:00:00.000Z',
  endpoints: { authUrl: 'http://a:1', chatUrl: 'http://c:2', gatewayUrl: 'ws://g:3' },
};

test('the config directory: CHAT_CONFIG_DIR, else XDG_CONFIG_HOME/chat-k8s, else ~/.config/chat-k8s', () => {
  assert.equal(configDir({ CHAT_CONFIG_DIR: '/x/y', XDG_CONFIG_HOME: '/xdg' }, '/home/a'), '/x/y');
  assert.equal(configDir({ XDG_CONFIG_HOME: '/xdg' }, '/home/a'), '/xdg/chat-k8s');
  assert.equal(configDir({}, '/home/a'), '/home/a/.config/chat-k8s');
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  assert.equal(configDir({ XDG_CONFIG_HOME: 'rel/dir' }, '/home/a'), '/home/a/.config/chat-k8s');
});

test('a saved session reads back, in a 0700 directory and a 0600 file, whatever the umask', () => {
  const store = new SessionStore(freshDir());
  const old = process.umask(0o000); // the most permissive umask: the modes must not depend on it
  try {
    store.saveSession(session);
  } finally {
    process.umask(old);
  }
  assert.deepEqual(store.loadSession(), session);
  assert.equal(mode(store.dir), 0o700);
  assert.equal(mode(store.sessionPath), 0o600);
  // No temporary file is left behind.
  assert.deepEqual(readdirSync(store.dir), ['session.json']);
});

test('saving again replaces the file atomically and tightens a file someone loosened', () => {
  const store = new SessionStore(freshDir());
  store.saveSession(session);
  chmodSync(store.sessionPath, 0o644);
  store.saveSession({ ...session, token: 'second' });
  assert.equal(store.loadSession()?.token, 'second');
  assert.equal(mode(store.sessionPath), 0o600);
});

test('a symlink planted at the session path is replaced, not written through', () => {
  const store = new SessionStore(freshDir());
  mkdirSync(store.dir, { recursive: true, mode: 0o700 });
  const target = join(root, `victim${n++}`);
  writeFileSync(target, 'untouched');
  symlinkSync(target, store.sessionPath);
  store.saveSession(session);
  assert.equal(readFileSync(target, 'utf8'), 'untouched');
  assert.equal(store.loadSession()?.token, session.token);
});

test('an existing directory is used as it is (it may be one the user chose)', () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const store = new SessionStore(dir);
  store.saveSession(session);
  assert.equal(mode(dir), 0o755);
  assert.equal(mode(store.sessionPath), 0o600);
});

test('nothing stored: no session; logout of nobody says so', () => {
  const store = new SessionStore(freshDir());
  assert.equal(store.loadSession(), undefined);
  assert.equal(store.clearSession(), false);
  store.saveSession(session);
  assert.equal(store.clearSession(), true);
  assert.equal(store.loadSession(), undefined);
});

test('a damaged or foreign session file is an error, not a silent logout', () => {
  const store = new SessionStore(freshDir());
  store.saveSession(session);
  writeFileSync(store.sessionPath, '{"token":');
  assert.throws(() => store.loadSession(), StoreFileError);
  writeFileSync(store.sessionPath, JSON.stringify({ token: 'x', user: { id: 'u1' } }));
  assert.throws(() => store.loadSession(), StoreFileError);
});

test('the listen cursor belongs to one user, is private, and can be forgotten', () => {
  const store = new SessionStore(freshDir());
  assert.equal(store.loadCursor('u1'), undefined);
  store.saveCursor('u1', 'c-1');
  store.saveCursor('u1', 'c-2');
  assert.equal(store.loadCursor('u1'), 'c-2');
  assert.equal(mode(store.cursorPath), 0o600);
  assert.equal(store.loadCursor('u2'), undefined, "another account's position is not used");
  store.saveCursor('u1', undefined);
  assert.equal(store.loadCursor('u1'), undefined);
  // A damaged cursor file means "no position" (it can be rebuilt), not a failure.
  writeFileSync(store.cursorPath, 'garbage');
  assert.equal(store.loadCursor('u1'), undefined);
});
