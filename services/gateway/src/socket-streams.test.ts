/**
 * Unit tests of the per-socket streams: ordering, gap-filling and resume rules. Chat's sync is modelled in memory here (a timeline of
 * consecutive positions, the same paging contract); tests/system/resume.integration.test.ts runs the same paths against real Chat.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCursor, encodeCursor, type ChatMessage } from '@chat/common/contracts';
import { createLogger } from '@chat/common/config';
import { SocketStreams, type ReplayRetryPolicy } from './socket-streams.js';
import { SyncError, type ReadSyncPage } from './chat-sync-client.js';
import type { LiveFrame } from './delivery.js';
import { messageFrame, messageFrameHead, parseClientFrame } from './frames.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { SocketSender } from './socket-sender.js';
import { newSocketState, type GatewaySocket } from './socket-state.js';

const USER = 'u1';
const logger = createLogger({ service: 'test', level: 'silent' });
const cursor = (seq: number) => encodeCursor({ userId: USER, seq });
const message = (seq: number): ChatMessage => ({ id: `m${seq}`, from: 'alice', to: 'bob', text: `t${seq}`, createdAt: new Date().toISOString() });
const live = (seq: number): LiveFrame => ({ messageId: `m${seq}`, cursor: cursor(seq), seq, frame: messageFrame(messageFrameHead(message(seq)), cursor(seq)) });
const tick = () => new Promise((r) => setImmediate(r));

/**
 * Chat's sync over an in-memory timeline of `count` messages. `failRead(n)` may refuse read
 * number n (from 0), as a shedding or restarting Chat does.
 */
function timeline(count: () => number, opts: { fail?: SyncError; holeAt?: number; failRead?: (n: number) => SyncError | undefined } = {}) {
  const reads: { after: string; limit: number; at: number }[] = [];
  const read: ReadSyncPage = async (_token, after, limit) => {
    const refusal = opts.failRead?.(reads.length);
    reads.push({ after, limit, at: performance.now() });
    await tick();
    if (opts.fail) throw opts.fail;
    if (refusal) throw refusal;
    const from = decodeCursor(after);
    if (!from || from.userId !== USER) throw new SyncError('invalid_cursor', 'bad cursor');
    const seqs: number[] = [];
    for (let seq = from.seq + 1; seq <= count() && seqs.length < limit + 1; seq++) if (seq !== opts.holeAt) seqs.push(seq);
    const page = seqs.slice(0, limit);
    return { messages: page.map(message), cursor: cursor(page.at(-1) ?? from.seq), hasMore: seqs.length > limit };
  };
  return { read, reads };
}

function socket(since?: string) {
  const sent: any[] = [];
  const state = newSocketState({ id: USER, username: 'bob' }, Math.floor(Date.now() / 1000) + 3600, 'token', since);
  let closedWith: number | undefined;
  const ws = {
    getUserData: () => state,
    send: (frame: string) => {
      sent.push(JSON.parse(frame));
      return 1;
    },
    getBufferedAmount: () => 0,
    end: (code: number) => {
      closedWith = code;
    },
  } as unknown as GatewaySocket;
  return { ws, sent, state, closedWith: () => closedWith };
}

/** Quick retries for the tests: 20, 40, 80 ms… (no jitter), at most 3. */
const FAST_RETRY: ReplayRetryPolicy = { retries: 3, backoff: { baseMs: 20, capMs: 1_000, jitter: 0.5 }, maxRetryAfterMs: 10_000, random: () => 0.5 };

function setup(read: ReadSyncPage, opts: { replayLimit?: number; resumeWindowMs?: number; pageSize?: number; retry?: ReplayRetryPolicy; maxConcurrentReplays?: number; metrics?: GatewayMetrics } = {}) {
  const metrics = opts.metrics ?? createGatewayMetrics();
  return new SocketStreams({
    sender: new SocketSender(metrics, 1 << 20),
    readSyncPage: read,
    tokenOf: () => 'token',
    metrics,
    logger,
    replayLimit: opts.replayLimit ?? 1000,
    pageSize: opts.pageSize ?? 500,
    resumeWindowMs: opts.resumeWindowMs ?? 0,
    maxConcurrentReplays: opts.maxConcurrentReplays ?? 4,
    retry: opts.retry ?? FAST_RETRY,
  });
}

const summary = (sent: any[]) => sent.map((f) => (f.type === 'new_message' ? `${f.message.id}${f.replayed ? 'r' : ''}` : f.type));
const settle = async () => {
  for (let i = 0; i < 20; i++) await tick();
};

describe('SocketStreams', () => {
  it('resume with since: replays after the cursor, then synced, then live frames without duplicates', async () => {
    let stored = 5;
    const { read } = timeline(() => stored, {});
    const streams = setup(read, { pageSize: 2 });
    const s = socket(cursor(2));
    streams.onOpen(s.ws);
    // Live traffic during the replay: m5 is also in the replay, m6 and m7 are new.
    streams.deliverLive(s.ws, live(5));
    stored = 7;
    streams.deliverLive(s.ws, live(6));
    streams.deliverLive(s.ws, live(7));
    await settle();
    const frames = summary(s.sent);
    const syncedAt = frames.indexOf('synced');
    assert.ok(syncedAt > 0);
    const ids = s.sent.filter((f) => f.type === 'new_message').map((f) => f.message.id);
    assert.deepEqual(ids, ['m3', 'm4', 'm5', 'm6', 'm7'], 'exactly once, in order');
    assert.ok(s.sent.slice(0, syncedAt).every((f) => f.replayed === true));
    assert.equal(s.sent[syncedAt].cursor, s.sent[syncedAt - 1].cursor);
    for (const f of s.sent.filter((x) => x.type === 'new_message')) assert.equal(decodeCursor(f.cursor)!.seq, Number(f.message.id.slice(1)));
  });

  it('a resume with nothing new answers synced with the same cursor', async () => {
    const streams = setup(timeline(() => 4).read);
    const s = socket(cursor(4));
    streams.onOpen(s.ws);
    await settle();
    assert.deepEqual(s.sent, [{ type: 'synced', cursor: cursor(4) }]);
  });

  it('fills a gap in live delivery from sync before going on', async () => {
    const { read, reads } = timeline(() => 9);
    const streams = setup(read);
    const s = socket();
    streams.deliverLive(s.ws, live(5));
    streams.deliverLive(s.ws, live(8)); // 6 and 7 never arrived live
    streams.deliverLive(s.ws, live(9));
    await settle();
    // m9 was already stored when the replay read, so it came with the replay and its live frame was a duplicate.
    assert.deepEqual(summary(s.sent), ['m5', 'm6r', 'm7r', 'm8r', 'm9r']);
    assert.equal(reads.length, 1);
    streams.deliverLive(s.ws, live(10));
    assert.deepEqual(summary(s.sent).at(-1), 'm10');
    assert.equal(reads[0]!.after, cursor(5));
  });

  it('skips duplicate and stale live frames', async () => {
    const streams = setup(timeline(() => 9).read);
    const s = socket();
    for (const seq of [1, 2, 2, 1, 3]) streams.deliverLive(s.ws, live(seq));
    await settle();
    assert.deepEqual(summary(s.sent), ['m1', 'm2', 'm3']);
  });

  it('does not loop on a hole Chat cannot fill', async () => {
    const { read, reads } = timeline(() => 9, { holeAt: 6 });
    const streams = setup(read);
    const s = socket();
    streams.deliverLive(s.ws, live(5));
    streams.deliverLive(s.ws, live(7));
    await settle();
    assert.deepEqual(summary(s.sent).slice(0, 2), ['m5', 'm7r']);
    assert.ok(reads.length <= 2);
  });

  it('past REPLAY_LIMIT answers resync_required, then live frames flow', async () => {
    let stored = 30;
    const { read } = timeline(() => stored);
    const streams = setup(read, { replayLimit: 10, pageSize: 4 });
    const s = socket(cursor(0));
    streams.onOpen(s.ws);
    stored = 31;
    streams.deliverLive(s.ws, live(31));
    await settle();
    assert.deepEqual(summary(s.sent), ['resync_required', 'm31']);
    streams.deliverLive(s.ws, live(32));
    assert.deepEqual(summary(s.sent), ['resync_required', 'm31', 'm32']);
  });

  it('exactly REPLAY_LIMIT messages still replay', async () => {
    const streams = setup(timeline(() => 10).read, { replayLimit: 10, pageSize: 3 });
    const s = socket(cursor(0));
    streams.onOpen(s.ws);
    await settle();
    assert.equal(s.sent.filter((f) => f.replayed).length, 10);
    assert.equal(s.sent.at(-1)!.type, 'synced');
  });

  for (const [name, since] of [
    ['garbage', 'not-a-cursor'],
    ['another user\'s', encodeCursor({ userId: 'someone-else', seq: 3 })],
  ] as const) {
    it(`a ${name} cursor gets invalid_cursor; the socket stays open and live frames flow`, async () => {
      const { read, reads } = timeline(() => 5);
      const streams = setup(read);
      const s = socket(since);
      streams.onOpen(s.ws);
      streams.deliverLive(s.ws, live(5));
      await settle();
      assert.equal(s.sent[0].type, 'error');
      assert.equal(s.sent[0].error.code, 'invalid_cursor');
      assert.deepEqual(summary(s.sent).slice(1), ['m5']);
      assert.equal(s.closedWith(), undefined);
      assert.equal(reads.length, 0, 'refused without asking Chat');
    });
  }

  it('a cursor Chat refuses (400) also gets invalid_cursor', async () => {
    const streams = setup(timeline(() => 5, { fail: new SyncError('invalid_cursor', 'no') }).read);
    const s = socket(cursor(1));
    streams.onOpen(s.ws);
    await settle();
    assert.equal(s.sent[0].error.code, 'invalid_cursor');
    assert.equal(s.closedWith(), undefined);
  });

  it('closes with 1013 when Chat is unavailable, so the client resumes later', async () => {
    const streams = setup(timeline(() => 5, { fail: new SyncError('unavailable', 'down') }).read);
    const s = socket(cursor(1));
    streams.onOpen(s.ws);
    await settle();
    assert.equal(s.closedWith(), 1013);
  });

  it('holds live frames for the resume window until the first frame, and a resume first frame replays', async () => {
    const streams = setup(timeline(() => 6).read, { resumeWindowMs: 10_000 });
    const s = socket();
    streams.onOpen(s.ws);
    streams.deliverLive(s.ws, live(6));
    await settle();
    assert.deepEqual(s.sent, [], 'held');
    assert.equal(streams.onFrame(s.ws, parseClientFrame(new TextEncoder().encode(JSON.stringify({ type: 'resume', since: cursor(3) })).buffer as ArrayBuffer, false)), true);
    await settle();
    assert.deepEqual(summary(s.sent), ['m4r', 'm5r', 'm6r', 'synced']);
    // A second resume is refused.
    assert.equal(streams.onFrame(s.ws, parseClientFrame(new TextEncoder().encode(JSON.stringify({ type: 'resume', since: cursor(3) })).buffer as ArrayBuffer, false)), true);
    assert.equal((s.sent.at(-1) as any).error.code, 'bad_frame');
    streams.onClose(s.ws);
  });

  it('any other first frame ends the resume window at once', async () => {
    const streams = setup(timeline(() => 6).read, { resumeWindowMs: 10_000 });
    const s = socket();
    streams.onOpen(s.ws);
    streams.deliverLive(s.ws, live(6));
    assert.equal(streams.onFrame(s.ws, parseClientFrame(new TextEncoder().encode('{"type":"ping"}').buffer as ArrayBuffer, false)), false);
    assert.deepEqual(summary(s.sent), ['m6']);
  });

  it('the resume window ends by itself', async () => {
    const streams = setup(timeline(() => 6).read, { resumeWindowMs: 30 });
    const s = socket();
    streams.onOpen(s.ws);
    streams.deliverLive(s.ws, live(6));
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(summary(s.sent), ['m6']);
  });

  it('after a broker outage, checks every socket that has a position', async () => {
    const { read, reads } = timeline(() => 8);
    const streams = setup(read);
    const a = socket();
    const fresh = socket();
    streams.deliverLive(a.ws, live(5));
    streams.fillAll([a.ws, fresh.ws]);
    await settle();
    assert.deepEqual(summary(a.sent), ['m5', 'm6r', 'm7r', 'm8r']);
    assert.deepEqual(fresh.sent, []);
    assert.equal(reads.length, 1);
  });

  it('after a broker outage, a live frame that arrives during the check and skips a message is not sent past the hole', async () => {
    // The check reads Chat while it holds m5..m6. Meanwhile m7 and m8 are stored, but only m8's
    // event reaches this gateway during the check (m7's comes later, or was lost): m8 is the first
    // held frame, yet its gap was never filled, so m7 must be read from Chat before m8 is sent.
    const t = timeline(() => (t.reads.length <= 1 ? 6 : 8));
    const { read, reads } = t;
    const streams = setup(read);
    const s = socket();
    streams.deliverLive(s.ws, live(5));
    streams.fillAll([s.ws]);
    streams.deliverLive(s.ws, live(8));
    await settle();
    assert.deepEqual(summary(s.sent), ['m5', 'm6r', 'm7r', 'm8r']);
    assert.equal(reads.length, 2);
    streams.deliverLive(s.ws, live(7)); // late duplicate
    streams.deliverLive(s.ws, live(9));
    assert.deepEqual(summary(s.sent), ['m5', 'm6r', 'm7r', 'm8r', 'm9']);
  });
});

describe('SocketStreams holds', () => {
  it('a flood during the resume window ends the wait instead of dropping frames (even without cursors)', async () => {
    const streams = setup(timeline(() => 0).read, { resumeWindowMs: 10_000, replayLimit: 5 });
    const s = socket();
    streams.onOpen(s.ws);
    for (let i = 0; i < 12; i++) streams.deliverLive(s.ws, { messageId: `x${i}`, cursor: undefined, seq: undefined, frame: messageFrame(messageFrameHead({ ...message(i), id: `x${i}` }), undefined) });
    assert.deepEqual(s.sent.map((f) => f.message.id), Array.from({ length: 12 }, (_, i) => `x${i}`));
    streams.onClose(s.ws);
  });

  it('frames that overflow the hold behind a replay are read from Chat by another pass', async () => {
    // The first read sees m2..m3; the next ones see everything up to m12.
    const t = timeline(() => (t.reads.length <= 1 ? 3 : 12));
    const { read, reads } = t;
    const streams = setup(read, { replayLimit: 5 });
    const s = socket(cursor(1));
    streams.onOpen(s.ws);
    for (let seq = 4; seq <= 12; seq++) streams.deliverLive(s.ws, live(seq)); // 9 frames, only 5 fit
    await settle();
    const ids = s.sent.filter((f) => f.type === 'new_message').map((f) => f.message.id);
    assert.deepEqual(ids, Array.from({ length: 11 }, (_, i) => `m${i + 2}`), 'm2..m12 exactly once, in order');
    assert.ok(reads.length >= 2);
  });
});

describe('SocketStreams when Chat sheds a replay', () => {
  const shed = (retryAfterMs?: number) => new SyncError('unavailable', 'chat answered 503', 'shed', retryAfterMs);
  const waitUntil = async (check: () => boolean, ms = 2_000) => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('retries after max(Retry-After, backoff), holding live frames meanwhile; then every message once, in order', async () => {
    let stored = 6;
    // Reads 0 and 1 are shed (the first with Retry-After 150 ms), read 2 answers.
    const t = timeline(() => stored, { failRead: (n) => (n === 0 ? shed(150) : n === 1 ? shed() : undefined) });
    const metrics = createGatewayMetrics();
    const streams = setup(t.read, { metrics });
    const s = socket(cursor(2));
    streams.onOpen(s.ws);
    await settle();
    // Live traffic while the replay waits: m6 is also in the replay, m7 and m8 are new.
    streams.deliverLive(s.ws, live(6));
    stored = 8;
    streams.deliverLive(s.ws, live(7));
    streams.deliverLive(s.ws, live(8));
    assert.deepEqual(s.sent, [], 'nothing is sent while the replay waits');
    await waitUntil(() => s.sent.some((f) => f.type === 'synced'));
    await settle();
    assert.equal(t.reads.length, 3);
    const [first, second, third] = t.reads.map((r) => r.at);
    assert.ok(second! - first! >= 145, `the first retry waited for Retry-After (${(second! - first!).toFixed(0)} ms)`);
    assert.ok(third! - second! >= 38 && third! - second! < 145, `the second waited the backoff, 40 ms (${(third! - second!).toFixed(0)} ms)`);
    assert.deepEqual(summary(s.sent), ['m3r', 'm4r', 'm5r', 'm6r', 'm7r', 'm8r', 'synced']);
    assert.equal(s.closedWith(), undefined);
    const retries = (await metrics.replayRetries.get()).values.find((v) => v.labels.reason === 'shed')?.value;
    assert.equal(retries, 2);
    streams.deliverLive(s.ws, live(9));
    assert.deepEqual(summary(s.sent).at(-1), 'm9');
  });

  it('past its retries the replay fails and the socket closes with 1013, as before', async () => {
    const t = timeline(() => 5, { failRead: () => new SyncError('unavailable', 'chat did not answer in time', 'timeout') });
    const metrics = createGatewayMetrics();
    const streams = setup(t.read, { metrics });
    const s = socket(cursor(1));
    streams.onOpen(s.ws);
    await waitUntil(() => s.closedWith() !== undefined);
    assert.equal(s.closedWith(), 1013);
    assert.equal(t.reads.length, 1 + FAST_RETRY.retries, 'the first read and every retry');
    assert.equal((await metrics.replays.get()).values.find((v) => v.labels.result === 'failed')?.value, 1);
  });

  it('a failure that is not transient (a 500, a bad body) is not retried', async () => {
    const t = timeline(() => 5, { failRead: () => new SyncError('unavailable', 'chat answered 500') });
    const streams = setup(t.read);
    const s = socket(cursor(1));
    streams.onOpen(s.ws);
    await settle();
    assert.equal(s.closedWith(), 1013);
    assert.equal(t.reads.length, 1);
  });

  it('a waiting replay keeps its slot (Chat gets fewer reads), and gives it back at once when its socket closes', async () => {
    // One slot. Socket A's read is shed with Retry-After 10 s; B's replay queues behind it.
    const t = timeline(() => 4, { failRead: (n) => (n === 0 ? shed(10_000) : undefined) });
    const streams = setup(t.read, { maxConcurrentReplays: 1 });
    const a = socket(cursor(1));
    const b = socket(cursor(2));
    streams.onOpen(a.ws);
    streams.onOpen(b.ws);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.reads.length, 1, 'B does not read while A waits in the only slot');
    assert.deepEqual(b.sent, []);
    // A's client goes away: its wait ends, the slot goes to B at once.
    a.state.closedBy = 'client';
    streams.onClose(a.ws);
    await waitUntil(() => b.sent.some((f) => f.type === 'synced'), 1_000);
    assert.deepEqual(summary(b.sent), ['m3r', 'm4r', 'synced']);
    assert.equal(t.reads.length, 2, 'A did not read again after its socket closed');
  });

  it('live frames held during a long wait stay bounded; what did not fit is read by another pass', async () => {
    // Read 0 is shed; read 1 (after the wait) sees m2..m3; later reads see everything up to m12.
    const t = timeline(() => (t.reads.length <= 2 ? 3 : 12), { failRead: (n) => (n === 0 ? shed(50) : undefined) });
    const streams = setup(t.read, { replayLimit: 5 });
    const s = socket(cursor(1));
    streams.onOpen(s.ws);
    await settle();
    for (let seq = 4; seq <= 12; seq++) streams.deliverLive(s.ws, live(seq)); // 9 frames while it waits, 5 held
    await waitUntil(() => s.sent.filter((f) => f.type === 'new_message').length === 11);
    await settle();
    const ids = s.sent.filter((f) => f.type === 'new_message').map((f) => f.message.id);
    assert.deepEqual(ids, Array.from({ length: 11 }, (_, i) => `m${i + 2}`), 'm2..m12 exactly once, in order');
    assert.ok(t.reads.length >= 3, 'the overflow was read by another pass');
    assert.equal(s.closedWith(), undefined);
  });
});
