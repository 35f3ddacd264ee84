/**
 * One load-generator child process. It holds WebSocket clients (the `ws` package) bound to a
 * few 127.0.0.x source addresses, measures event→frame latency of what they receive, and on
 * command injects events straight into the broker or sends messages over Chat's HTTP API.
 * The harness runs several of these so that no process nears the 20k open-file limit, and
 * reads their CPU time so a loadgen-limited result is labelled as such.
 */
import http from 'node:http';
import amqp from 'amqplib';
import WebSocket from 'ws';
import { encodeCursor } from '@chat/common/contracts';
import { LatencyHistogram, round3 } from '../stats.js';
import { dueSends, dueSlots, scheduleMs } from './schedule.js';
import type { Command, ConnectCommand, ConnectResult, GroupTally, InjectCommand, InjectResult, LayerCommand, LayerCounts, Reply, SendCommand, SendRecord, SendResult, WindowStats } from './protocol.js';

const sockets: WebSocket[] = [];
const latency = new LatencyHistogram();
let frames = 0;
let otherFrames = 0;
let closedByServer = 0;
let closeCodes: Record<string, number> = {};
let windowCpu = process.cpuUsage();
let windowStart = performance.now();
let closingOnPurpose = false;

/** End-to-end mode: frames whose text carries this tag are recorded by key for the 201→frame join. */
let e2eTag: string | null = null;
let e2eFrames: Array<[string, number]> = [];

/**
 * Group mode: frames whose text carries this tag are tallied per message, with the sockets that got
 * it, so a lost or duplicated frame on one member's socket shows (a total per message would let a
 * duplicate on one socket hide a loss on another).
 */
let groupTag: string | null = null;
let groupTally = new Map<string, { frames: number; sockets: Set<number>; firstAt: number; lastAt: number }>();

const now = () => performance.timeOrigin + performance.now();

const TYPE_MARK = Buffer.from('{"type":"');
const TYPE_AT = TYPE_MARK.length;
let otherByType: Record<string, number> = {};

// Texts the harness puts in events: "t:<epoch ms with µs>" (injected) or "<tag>:<key>" (sent over HTTP).
const TEXT_MARK = Buffer.from('"text":"');

function onFrame(data: Buffer, socket: number): void {
  const received = now();
  const at = data.indexOf(TEXT_MARK);
  if (at < 0) {
    otherFrames++;
    // Server frames open with {"type":"<type>" (frames.ts): typing and presence frames are counted by type, apart from messages.
    const end = data.indexOf(0x22, TYPE_AT);
    const type = data.subarray(0, TYPE_AT).equals(TYPE_MARK) && end > TYPE_AT ? data.toString('latin1', TYPE_AT, end) : 'unknown';
    otherByType[type] = (otherByType[type] ?? 0) + 1;
    return;
  }
  frames++;
  const start = at + TEXT_MARK.length;
  const end = data.indexOf(0x22, start); // closing quote: our texts never contain escapes
  const text = data.toString('latin1', start, end);
  if (text.startsWith('t:')) {
    latency.record(received - Number(text.slice(2)));
    return;
  }
  if (groupTag !== null && text.startsWith(`${groupTag}:`)) {
    const key = text.slice(groupTag.length + 1);
    const t = groupTally.get(key);
    if (!t) groupTally.set(key, { frames: 1, sockets: new Set([socket]), firstAt: received, lastAt: received });
    else {
      t.frames++;
      t.sockets.add(socket);
      if (received > t.lastAt) t.lastAt = received;
    }
    return;
  }
  if (e2eTag !== null && text.startsWith(`${e2eTag}:`)) {
    e2eFrames.push([text.slice(e2eTag.length + 1), received]);
    // Latency from createdAt (ms resolution) for the live p99; the exact 201→frame join is done by the harness.
    const m = /"createdAt":"([^"]+)"/.exec(data.toString('latin1'));
    if (m?.[1]) latency.record(received - Date.parse(m[1]));
  }
}

/** Per socket (same index as `sockets`): the token it connected with, its user, the address it is bound to and the gateway's URL, so it can reconnect in place. */
const meta: Array<{ token: string; userId: string; localAddress: string | undefined; url: string }> = [];
/** Sockets closed by this child on purpose (a layer reconnect): their close is not the server's. */
const closedByUs = new WeakSet<WebSocket>();
/** Bumped by every close of sockets: a reconnect that started before it must not put its socket back. */
let generation = 0;

/** The user id (`sub`) a token was minted for: read, not verified (the gateway verifies it). */
function subjectOf(token: string): string {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub ?? '';
  } catch {
    return '';
  }
}

/**
 * Opens one socket; it counts as connected once the gateway's first frame (`ready`) came, and then
 * `onReady` runs synchronously, before any later frame can arrive (it attaches the frame handler).
 * Resolves with the failure reason, or undefined when connected.
 */
function openSocket(url: string, token: string, localAddress: string | undefined, timeoutMs: number, onReady: (ws: WebSocket) => void): Promise<string | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?token=${token}`, {
      localAddress,
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: timeoutMs,
    });
    let settled = false;
    const settle = (reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reason);
    };
    const timer = setTimeout(() => {
      settle('timeout');
      ws.terminate();
    }, timeoutMs);
    ws.once('unexpected-response', (_req, res) => {
      settle(`http_${res.statusCode}`);
      ws.terminate();
    });
    ws.once('error', (err: NodeJS.ErrnoException) => settle(err.code ?? 'error'));
    ws.once('message', (data: Buffer) => {
      if (data.includes('"ready"')) {
        onReady(ws);
        settle();
      } else {
        settle('no_ready_frame');
        ws.terminate();
      }
    });
    ws.on('close', (code) => {
      if (!settled) settle(`closed_${code}`);
      else if (!closingOnPurpose && !closedByUs.has(ws)) {
        closedByServer++;
        closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      }
    });
  });
}

async function connect(cmd: ConnectCommand): Promise<ConnectResult> {
  const t0 = performance.now();
  let next = 0;
  let opened = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  let lastReport = 0;
  const openOne = async (i: number) => {
    const localAddress = cmd.localAddresses[i % cmd.localAddresses.length];
    const token = cmd.tokens[i]!;
    const reason = await openSocket(cmd.url, token, localAddress, cmd.timeoutMs, (ws) => {
      // Its index in this child names the socket in group mode's tally.
      const index = sockets.push(ws) - 1;
      meta[index] = { token, userId: subjectOf(token), localAddress, url: cmd.url };
      ws.on('message', (d: Buffer) => onFrame(d, index));
    });
    if (reason === undefined) opened++;
    else {
      failed++;
      failures[reason] = (failures[reason] ?? 0) + 1;
    }
    if (performance.now() - lastReport > 250) {
      lastReport = performance.now();
      process.send!({ progress: true, opened, failed });
    }
  };
  const lane = async () => {
    while (next < cmd.tokens.length) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(cmd.concurrency, cmd.tokens.length) }, lane));
  process.send!({ progress: true, opened, failed });
  return { opened, failed, failures, elapsedMs: performance.now() - t0 };
}

/** Scenario 10's layer traffic, while on (see LayerCommand). */
let layer:
  | {
      cmd: LayerCommand;
      timer: NodeJS.Timeout;
      last: number;
      started: number;
      /** Socket indices of each user this child holds. */
      byUser: Map<string, number[]>;
      /** The typing frame of each typer, built once. */
      typingFrames: string[];
      counts: LayerCounts;
      pending: Set<Promise<void>>;
    }
  | undefined;

const LAYER_TICK_MS = 25;

function layerOn(cmd: LayerCommand): null {
  if (layer) layerOffNow();
  const byUser = new Map<string, number[]>();
  meta.forEach((m, i) => {
    const list = byUser.get(m.userId);
    if (list) list.push(i);
    else byUser.set(m.userId, [i]);
  });
  const state = {
    cmd,
    last: now() - cmd.epochMs,
    started: performance.now(),
    byUser,
    typingFrames: cmd.typers.map(([, conversationId]) => JSON.stringify({ type: 'typing', conversationId })),
    counts: { typingSent: 0, typingSkipped: 0, reconnects: 0, reconnectFailures: {}, seconds: 0 } as LayerCounts,
    pending: new Set<Promise<void>>(),
    timer: setInterval(() => layerTick(), LAYER_TICK_MS),
  };
  layer = state;
  return null;
}

function layerTick(): void {
  const l = layer;
  if (!l) return;
  const elapsed = now() - l.cmd.epochMs;
  const { cmd } = l;
  for (const k of dueSlots(l.last, elapsed, cmd.typers.length, cmd.typingEveryMs)) {
    const ws = (l.byUser.get(cmd.typers[k]![0]) ?? []).map((i) => sockets[i]).find((x) => x?.readyState === WebSocket.OPEN);
    if (!ws) {
      l.counts.typingSkipped++;
      continue;
    }
    ws.send(l.typingFrames[k]!);
    l.counts.typingSent++;
  }
  if (cmd.victims.length && Number.isFinite(cmd.reconnectEveryMs))
    for (const k of dueSlots(l.last, elapsed, cmd.victims.length, cmd.victims.length * cmd.reconnectEveryMs))
      for (const index of l.byUser.get(cmd.victims[k]!) ?? []) {
        const p = reconnect(index, l).finally(() => l.pending.delete(p));
        l.pending.add(p);
      }
  l.last = elapsed;
}

/** Closes socket `index` as a client going away would (1000), and reopens it in place after the layer's delay. */
async function reconnect(index: number, l: { counts: LayerCounts }): Promise<void> {
  const old = sockets[index];
  const m = meta[index];
  if (!old || !m || old.readyState !== WebSocket.OPEN) return;
  const gen = generation;
  closedByUs.add(old);
  old.close(1000);
  await new Promise((r) => setTimeout(r, layer?.cmd.reconnectDelayMs ?? 0));
  if (gen !== generation) return;
  const reason = await openSocket(m.url, m.token, m.localAddress, layer?.cmd.timeoutMs ?? 15_000, (ws) => {
    if (gen !== generation) {
      closedByUs.add(ws);
      ws.terminate();
      return;
    }
    sockets[index] = ws;
    ws.on('message', (d: Buffer) => onFrame(d, index));
  });
  // Counted in the window it completed in (l.counts is replaced when a window starts).
  if (reason === undefined) l.counts.reconnects++;
  else l.counts.reconnectFailures[reason] = (l.counts.reconnectFailures[reason] ?? 0) + 1;
}

function layerOffNow(): LayerCounts | undefined {
  const l = layer;
  if (!l) return undefined;
  clearInterval(l.timer);
  layer = undefined;
  l.counts.seconds = (performance.now() - l.started) / 1000;
  return l.counts;
}

async function layerOff(): Promise<LayerCounts> {
  const l = layer;
  const counts = layerOffNow() ?? { typingSent: 0, typingSkipped: 0, reconnects: 0, reconnectFailures: {}, seconds: 0 };
  // Every socket is back before the next window (an "off" window must not see the reconnects' tail).
  if (l) await Promise.all(l.pending);
  return counts;
}

function windowStats(): WindowStats {
  const cpu = process.cpuUsage(windowCpu);
  return {
    frames,
    otherFrames,
    otherByType,
    latency: latency.snapshot(),
    open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
    closedByServer,
    closeCodes,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - windowStart) / 1000,
    rssBytes: process.memoryUsage.rss(),
  };
}

function resetWindow(): void {
  // The layer's counts cover the same window as the frames (what was sent vs what arrived).
  if (layer) {
    layer.counts = { typingSent: 0, typingSkipped: 0, reconnects: 0, reconnectFailures: {}, seconds: 0 };
    layer.started = performance.now();
  }
  latency.reset();
  frames = 0;
  otherFrames = 0;
  otherByType = {};
  closedByServer = 0;
  closeCodes = {};
  windowCpu = process.cpuUsage();
  windowStart = performance.now();
}

async function closeSockets(count?: number): Promise<number> {
  closingOnPurpose = true;
  generation++;
  const victims = sockets.splice(0, count ?? sockets.length);
  meta.splice(0, victims.length);
  await Promise.all(
    victims.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2_000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1000);
        }),
    ),
  );
  closingOnPurpose = false;
  return victims.length;
}

/** One broker connection for all injections (the warm-up makes many small ones). */
let injector: { url: string; conn: amqp.ChannelModel; ch: amqp.Channel } | undefined;

async function injectorChannel(url: string): Promise<amqp.Channel> {
  if (injector?.url === url) return injector.ch;
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  injector = { url, conn, ch };
  // An 'error' without a listener would kill this process; the next injection reconnects instead.
  ch.on('error', (err: Error) => console.error(`loadgen injector channel error: ${err.message}`));
  const forget = () => {
    if (injector?.conn === conn) injector = undefined;
  };
  conn.on('close', forget);
  conn.on('error', forget);
  return ch;
}

/** Each user's last cursor seq handed out by this injector (see InjectCommand.ids). */
const injectedSeq = new Map<string, number>();

function cursorsOf(ids: Record<string, string> | undefined, from: string, to: string): Record<string, string> {
  if (!ids) return {};
  const cursors: Record<string, string> = {};
  for (const name of from === to ? [from] : [from, to]) {
    const userId = ids[name];
    if (userId === undefined) continue;
    const seq = (injectedSeq.get(userId) ?? 0) + 1;
    injectedSeq.set(userId, seq);
    cursors[userId] = encodeCursor({ userId, seq });
  }
  return cursors;
}

/** Open-loop injection into the fanout exchange: a tick every 2 ms publishes what is due. */
async function inject(cmd: InjectCommand): Promise<InjectResult> {
  const ch = await injectorChannel(cmd.amqpUrl);
  const limit = cmd.count ?? Number.POSITIVE_INFINITY;
  let drains = 0;
  let sent = 0;
  const t0 = performance.now();
  const seqBase = `${process.pid}-${Date.now().toString(36)}`;
  let lastReport = 0;
  while (sent < limit) {
    const elapsed = performance.now() - t0;
    if (elapsed >= cmd.durationMs) break;
    const due = Math.min(limit, Math.floor((cmd.rate * elapsed) / 1000) + 1);
    while (sent < due) {
      const [from, to] = cmd.pairs[sent % cmd.pairs.length]!;
      const t = now();
      const event = {
        type: 'new_message',
        version: 1,
        message: { id: `bench-${seqBase}-${sent}`, from, to, text: `t:${t.toFixed(3)}`, createdAt: new Date(t).toISOString() },
        cursors: cursorsOf(cmd.ids, from, to),
      };
      sent++;
      const ok = ch.publish(cmd.exchange, '', Buffer.from(JSON.stringify(event)), { persistent: true, contentType: 'application/json' });
      if (!ok) {
        drains++;
        await new Promise((r) => ch.once('drain', r));
      }
    }
    if (performance.now() - lastReport > 500) {
      lastReport = performance.now();
      process.send!({ progress: true, sent });
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return { sent, elapsedMs: Math.min(performance.now() - t0, cmd.durationMs), drains };
}

/**
 * Opens `n` kept-alive connections on `agent` (concurrent GETs of `url`); each answer is read only
 * once every request has its own, or the first sockets freed would be reused for the rest.
 */
async function openConnections(agent: http.Agent, url: URL, n: number): Promise<void> {
  const answered: http.IncomingMessage[] = [];
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const req = http.get(url, { agent }, (res) => (answered.push(res), resolve()));
          req.on('error', () => resolve());
          req.setTimeout(5_000, () => req.destroy());
        }),
    ),
  );
  await Promise.all(answered.map((res) => new Promise<void>((resolve) => (res.on('end', resolve), res.on('error', () => resolve()), res.resume()))));
}

/** Open-loop HTTP sends to Chat: a fixed schedule (one rate, or phases back to back), keep-alive connections, a cap on requests in flight. */
async function send(cmd: SendCommand): Promise<SendResult> {
  const pool = cmd.connections;
  // A pool: FIFO so none idles out, and every idle socket kept (maxFreeSockets' default, 256, would close the rest).
  const agent = new http.Agent(pool ? { keepAlive: true, maxSockets: pool, maxFreeSockets: pool, scheduling: 'fifo' } : { keepAlive: true, maxSockets: cmd.maxInFlight });
  if (pool) await openConnections(agent, new URL('/healthz', cmd.chatUrl), pool);
  const url = new URL('/chat/send', cmd.chatUrl);
  const phases = cmd.phases ?? [{ rate: cmd.rate, durationMs: cmd.durationMs }];
  const durationMs = scheduleMs(phases);
  const timeoutMs = cmd.timeoutMs ?? 10_000;
  const sendLatency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const acked: Array<[string, number]> = [];
  const records: SendRecord[] | undefined = cmd.records ? [] : undefined;
  let attempted = 0;
  let ok = 0;
  let skipped = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const pending = new Set<Promise<void>>();
  const fire = (i: number) => {
    const pair = cmd.pairs[i % cmd.pairs.length]!;
    const key = `${process.pid}.${i}`;
    const text = `${cmd.tag}:${key}`;
    const body = JSON.stringify('conversationId' in pair ? { conversationId: pair.conversationId, text } : { to: pair.to, text });
    const started = performance.now();
    const record: SendRecord | undefined = records ? [round3(started - t0), 0, 0] : undefined;
    if (record) records!.push(record);
    inFlight++;
    const p = new Promise<void>((resolve) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${pair.token}` } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const t = performance.now();
            if (record) {
              record[1] = round3(t - started);
              record[2] = res.statusCode ?? 0;
            }
            if (res.statusCode === 201) {
              ok++;
              sendLatency.record(t - started);
              acked.push([key, performance.timeOrigin + t]);
            } else errors[`http_${res.statusCode}`] = (errors[`http_${res.statusCode}`] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (record) record[1] = round3(performance.now() - started);
        errors[err.code ?? err.message] = (errors[err.code ?? err.message] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    }).finally(() => {
      inFlight--;
      pending.delete(p);
    });
    pending.add(p);
  };
  let lastReport = 0;
  while (true) {
    const elapsed = performance.now() - t0;
    if (elapsed >= durationMs) break;
    const due = dueSends(phases, elapsed);
    while (attempted < due) {
      if (inFlight >= cmd.maxInFlight) {
        skipped++;
        records?.push([round3(elapsed), 0, -1]);
      } else fire(attempted);
      attempted++;
    }
    if (performance.now() - lastReport > 500) {
      lastReport = performance.now();
      process.send!({ progress: true, sent: ok });
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  agent.destroy();
  return { attempted, ok, errors, skipped, sendLatency: sendLatency.snapshot(), elapsedMs: performance.now() - t0, acked, ...(records ? { records } : {}) };
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'connect':
      return connect(cmd);
    case 'window': {
      resetWindow();
      return null;
    }
    case 'stats':
      return windowStats();
    case 'close':
      return closeSockets(cmd.count);
    case 'inject':
      return inject(cmd);
    case 'layer':
      return cmd.on ? layerOn(cmd) : layerOff();
    case 'send':
      return send(cmd);
    case 'e2e':
      e2eTag = cmd.tag;
      e2eFrames = [];
      return null;
    case 'e2eDrain': {
      const out = e2eFrames;
      e2eFrames = [];
      return out;
    }
    case 'group':
      groupTag = cmd.tag;
      groupTally = new Map();
      return null;
    case 'groupDrain': {
      const out: GroupTally = [...groupTally].map(([key, t]) => [key, t.frames, t.sockets.size, t.firstAt, t.lastAt]);
      groupTally = new Map();
      return out;
    }
    case 'exit':
      layerOffNow();
      await closeSockets();
      setImmediate(() => process.exit(0));
      return null;
  }
}

if (!process.send) {
  console.error('loadgen worker: run me through the harness (needs an IPC channel)');
  process.exit(2);
}
process.on('message', (cmd: Command) => {
  handle(cmd).then(
    (result) => process.send!({ id: cmd.id, ok: true, result } satisfies Reply),
    (err: unknown) => process.send!({ id: cmd.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});
// The harness going away must not leave sockets or the process behind.
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => {
  console.error(`loadgen worker ${process.pid} crashed: ${err.stack ?? err.message}`);
  process.exit(1);
});
