/**
 * The reconnect, resume and dedupe logic against a scripted socket and a manual clock. The real
 * gateway is exercised by the terminal client's and the browser's end-to-end tests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from './api.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { LiveConnection, type LiveOptions, type LiveStatus, type SocketLike } from './live.ts';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: string[] = [];
  closed?: number;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.closed = code;
  }
  // server side
  open(user = { id: 'u1', username: 'bob' }) {
    this.onopen?.({});
    this.frame({ type: 'ready', user });
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code = 1006, reason = '') {
    this.onclose?.({ code, reason });
  }
  /** An upgrade answered with `status`, as Node's `ws` reports it: an error naming it, then 1006. */
  refuse(status: number) {
    this.onerror?.({ message: `Unexpected server response: ${status}` });
    this.drop(1006);
  }
}

function harness(extra: Partial<LiveOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let clock = 0;
  let nextId = 1;
  const got: { message: ChatMessage; replayed: boolean }[] = [];
  const statuses: LiveStatus[] = [];
  const cursors: (string | undefined)[] = [];
  const events: string[] = [];
  const live = new LiveConnection({
    gatewayUrl: 'ws://gw.test:5003',
    token: () => 'tok',
    connect: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    now: () => clock,
    setTimer: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: clock + ms, fn, id });
      return id;
    },
    clearTimer: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
    onMessage: (message, info) => got.push({ message, replayed: info.replayed }),
    onStatus: (s) => statuses.push(s),
    onCursor: (c) => cursors.push(c),
    onSessionExpired: () => events.push('expired'),
    onResyncRequired: (why) => events.push(`resync:${why}`),
    ...extra,
  });
  return {
    live,
    sockets,
    got,
    statuses,
    cursors,
    events,
    timers,
    /** Moves the clock and fires due timers. */
    advance(ms: number) {
      clock += ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= clock).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.splice(timers.indexOf(due), 1);
        due.fn();
      }
    },
    last: () => sockets.at(-1)!,
  };
}

const m = (n: number): ChatMessage => ({ id: `m${n}`, from: 'alice', to: 'bob', text: `t${n}`, createdAt: new Date(n * 1000).toISOString() });

test('connects with the token, ends the resume window with a ping, delivers live messages and stores each cursor', () => {
  const h = harness();
  h.live.start();
  const s = h.last();
  assert.equal(new URL(s.url).searchParams.get('token'), 'tok');
  assert.equal(new URL(s.url).searchParams.has('since'), false);
  s.open();
  assert.deepEqual(s.sent, ['{"type":"ping"}']);
  assert.equal(h.live.state, 'live');
  s.frame({ type: 'new_message', message: m(1), cursor: 'c1' });
  s.frame({ type: 'new_message', message: m(2), cursor: 'c2' });
  assert.deepEqual(h.got.map((g) => g.message.id), ['m1', 'm2']);
  assert.deepEqual(h.cursors, ['c1', 'c2']);
  assert.equal(h.live.cursor, 'c2');
});

test('a drop reconnects after the backoff with since=<last cursor>, and the replay\'s duplicates are dropped', () => {
  const h = harness();
  h.live.start();
  h.last().open();
  h.last().frame({ type: 'new_message', message: m(1), cursor: 'c1' });
  h.last().drop(1006);
  assert.equal(h.live.state, 'waiting');
  assert.equal(h.statuses.at(-1)!.retryInMs, 500);
  h.advance(499);
  assert.equal(h.sockets.length, 1, 'not before the delay');
  h.advance(1);
  assert.equal(h.sockets.length, 2);
  const s = h.last();
  assert.equal(new URL(s.url).searchParams.get('since'), 'c1');
  s.open();
  assert.deepEqual(s.sent, [], 'a resume does not ping: the gateway replays at once');
  assert.equal(h.live.state, 'catching_up');
  // The gateway replays m1 again (at least once on the wire) and m2, then goes live.
  s.frame({ type: 'new_message', message: m(1), cursor: 'c1', replayed: true });
  s.frame({ type: 'new_message', message: m(2), cursor: 'c2', replayed: true });
  s.frame({ type: 'synced', cursor: 'c2' });
  s.frame({ type: 'new_message', message: m(3), cursor: 'c3' });
  assert.equal(h.live.state, 'live');
  assert.deepEqual(h.got.map((g) => [g.message.id, g.replayed]), [['m1', false], ['m2', true], ['m3', false]]);
  assert.equal(h.live.cursor, 'c3');
});

test('consecutive failures back off exponentially; a connection that stayed up resets the delay', () => {
  const h = harness();
  h.live.start();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    h.last().drop(1006);
    delays.push(h.statuses.at(-1)!.retryInMs!);
    h.advance(delays.at(-1)!);
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000]);
  h.last().open();
  h.advance(DEFAULT_BACKOFF.stableMs);
  h.last().drop(1012, 'service_restart');
  assert.equal(h.statuses.at(-1)!.retryInMs, 500);
  assert.deepEqual(h.statuses.at(-1)!.lastClose, { code: 1012, reason: 'service_restart' });
});

test('close 4001 ends the session: no reconnect', () => {
  const h = harness();
  h.live.start();
  h.last().open();
  h.last().drop(4001, 'token_expired');
  h.advance(60_000);
  assert.equal(h.sockets.length, 1);
  assert.equal(h.live.state, 'stopped');
  assert.deepEqual(h.events, ['expired']);
});

test('a connect refused before ready asks whether the token is still accepted', async () => {
  let accepted = true;
  const h = harness({ tokenAccepted: async () => accepted });
  h.live.start();
  h.last().drop(1006);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.live.state, 'waiting', 'token fine: an ordinary retry');
  h.advance(500);
  accepted = false;
  h.last().drop(1006);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.live.state, 'stopped');
  assert.deepEqual(h.events, ['expired']);
  h.advance(60_000);
  assert.equal(h.sockets.length, 2);
});

test('refused upgrades back off to the cap and stay there; a 429 or 503 does not ask Chat about the token', async () => {
  let asked = 0;
  const h = harness({ tokenAccepted: async () => (asked++, true) });
  h.live.start();
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    h.last().refuse(i % 3 === 2 ? 503 : 429);
    await new Promise((r) => setImmediate(r));
    const status = h.statuses.at(-1)!;
    assert.equal(status.state, 'waiting');
    assert.deepEqual(status.lastClose, { code: 1006, reason: '', httpStatus: i % 3 === 2 ? 503 : 429 });
    delays.push(status.retryInMs!);
    h.advance(status.retryInMs! - 1);
    assert.equal(h.sockets.length, i + 1, 'nothing before the delay');
    h.advance(1);
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(asked, 0);
  // The first socket that gets through and stays up a minute resets the delay.
  h.last().open();
  h.advance(DEFAULT_BACKOFF.stableMs);
  h.last().drop(1012, 'service_restart');
  assert.equal(h.statuses.at(-1)!.retryInMs, 500);
});

test("a browser's refused upgrade (no status, just 1006) backs off the same way, asking Chat each time", async () => {
  let asked = 0;
  const h = harness({ tokenAccepted: async () => (asked++, true) });
  h.live.start();
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    h.last().onerror?.({ type: 'error' });
    h.last().drop(1006);
    await new Promise((r) => setImmediate(r));
    assert.equal(h.statuses.at(-1)!.lastClose?.httpStatus, undefined);
    delays.push(h.statuses.at(-1)!.retryInMs!);
    h.advance(delays.at(-1)!);
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(asked, 8);
});

test('a socket that said ready but dropped within a minute does not reset the delay', () => {
  const h = harness();
  h.live.start();
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    h.last().open();
    h.advance(1_000);
    h.last().drop(1008, 'rate_limited');
    delays.push(h.statuses.at(-1)!.retryInMs!);
    h.advance(delays.at(-1)!);
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});

test('an invalid stored cursor is dropped and the app is told to reload history', () => {
  const h = harness({ cursor: 'stale' });
  h.live.start();
  assert.equal(new URL(h.last().url).searchParams.get('since'), 'stale');
  h.last().open();
  h.last().frame({ type: 'error', error: { code: 'invalid_cursor', message: 'bad' } });
  assert.equal(h.live.cursor, undefined);
  assert.deepEqual(h.cursors, [undefined]);
  assert.deepEqual(h.events, ['resync:invalid_cursor']);
  h.last().drop(1006);
  h.advance(500);
  assert.equal(new URL(h.last().url).searchParams.has('since'), false);
});

test('stop() closes the socket and cancels a pending reconnect', () => {
  const h = harness();
  h.live.start();
  h.last().drop(1006);
  h.live.stop();
  h.advance(60_000);
  assert.equal(h.sockets.length, 1);
  assert.equal(h.live.state, 'stopped');
  const h2 = harness();
  h2.live.start();
  h2.last().open();
  h2.live.stop();
  assert.equal(h2.last().closed, 1000);
});

test('markSeen keeps messages already on screen from being shown twice', () => {
  const h = harness();
  h.live.markSeen(['m1']);
  h.live.start();
  h.last().open();
  h.last().frame({ type: 'new_message', message: m(1), cursor: 'c1' });
  h.last().frame({ type: 'new_message', message: m(2), cursor: 'c2' });
  assert.deepEqual(h.got.map((g) => g.message.id), ['m2']);
  assert.equal(h.live.cursor, 'c2');
});

test('typing, read and presence frames reach their handlers, malformed ones do not; typing goes out only on a ready socket', () => {
  const seen: unknown[] = [];
  const h = harness({ onTyping: (f) => seen.push(f), onRead: (f) => seen.push(f), onPresence: (f) => seen.push(f) });
  assert.equal(h.live.sendTyping('dm:1'), false, 'no socket yet');
  h.live.start();
  assert.equal(h.live.sendTyping('dm:1'), false, 'not ready yet');
  const s = h.last();
  s.open();
  const bob = { id: 'u2', username: 'alice' };
  s.frame({ type: 'typing', conversationId: 'dm:1', user: bob });
  s.frame({ type: 'typing', conversationId: 'dm:1' });
  s.frame({ type: 'read', conversationId: 'dm:1', user: bob, readUpTo: 'm1', at: '2026-01-01T00:00:00.000Z' });
  s.frame({ type: 'read', conversationId: 'dm:1', user: bob });
  s.frame({ type: 'presence', user: bob, status: 'offline', lastSeen: '2026-01-01T00:00:00.000Z' });
  s.frame({ type: 'presence', user: bob, status: 'online', lastSeen: 'dropped' });
  s.frame({ type: 'presence', user: bob, status: 'away' });
  assert.deepEqual(seen, [
    { type: 'typing', conversationId: 'dm:1', user: bob },
    { type: 'read', conversationId: 'dm:1', user: bob, readUpTo: 'm1', at: '2026-01-01T00:00:00.000Z' },
    { type: 'presence', user: bob, status: 'offline', lastSeen: '2026-01-01T00:00:00.000Z' },
    { type: 'presence', user: bob, status: 'online' },
  ]);
  assert.equal(h.live.sendTyping('g:7'), true);
  assert.deepEqual(s.sent.map((f) => JSON.parse(f)), [{ type: 'ping' }, { type: 'typing', conversationId: 'g:7' }]);
  assert.deepEqual(h.got, [], 'no message came of any of it');
  s.drop(1006);
  assert.equal(h.live.sendTyping('g:7'), false, 'dropped: nothing is queued');
});

test('not_a_member is an error frame like any other: reported, the socket stays', () => {
  const errors: { code: string }[] = [];
  const h = harness({ onServerError: (e) => errors.push(e) });
  h.live.start();
  h.last().open();
  h.last().frame({ type: 'error', error: { code: 'not_a_member', message: 'not a member of that conversation' } });
  assert.deepEqual(errors.map((e) => e.code), ['not_a_member']);
  assert.equal(h.live.state, 'live');
  assert.equal(h.last().closed, undefined);
});
