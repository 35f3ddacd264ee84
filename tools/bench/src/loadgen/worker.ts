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
import { LatencyHistogram } from '../stats.js';
import type { Command, ConnectCommand, ConnectResult, GroupTally, InjectCommand, InjectResult, Reply, SendCommand, SendResult, WindowStats } from './protocol.js';

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

// Texts the harness puts in events: "t:<epoch ms with µs>" (injected) or "<tag>:<key>" (sent over HTTP).
const TEXT_MARK = Buffer.from('"text":"');

function onFrame(data: Buffer, socket: number): void {
  const received = now();
  const at = data.indexOf(TEXT_MARK);
  if (at < 0) {
    otherFrames++;
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

async function connect(cmd: ConnectCommand): Promise<ConnectResult> {
  const t0 = performance.now();
  let next = 0;
  let opened = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const fail = (reason: string) => {
    failed++;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  let lastReport = 0;
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const localAddress = cmd.localAddresses[i % cmd.localAddresses.length];
      const ws = new WebSocket(`${cmd.url}?token=${cmd.tokens[i]}`, {
        localAddress,
        perMessageDeflate: false,
        skipUTF8Validation: true,
        handshakeTimeout: cmd.timeoutMs,
      });
      let settled = false;
      const settle = (ok: boolean, reason?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) opened++;
        else fail(reason ?? 'error');
        if (performance.now() - lastReport > 250) {
          lastReport = performance.now();
          process.send!({ progress: true, opened, failed });
        }
        resolve();
      };
      const timer = setTimeout(() => {
        settle(false, 'timeout');
        ws.terminate();
      }, cmd.timeoutMs);
      ws.once('unexpected-response', (_req, res) => {
        settle(false, `http_${res.statusCode}`);
        ws.terminate();
      });
      ws.once('error', (err: NodeJS.ErrnoException) => settle(false, err.code ?? 'error'));
      // The gateway's first frame is {"type":"ready",...}: the socket counts as connected only then.
      ws.once('message', (data: Buffer) => {
        if (data.includes('"ready"')) {
          // Its index in this child names the socket in group mode's tally.
          const index = sockets.push(ws) - 1;
          ws.on('message', (d: Buffer) => onFrame(d, index));
          settle(true);
        } else {
          settle(false, 'no_ready_frame');
          ws.terminate();
        }
      });
      ws.on('close', (code) => {
        if (!settled) settle(false, `closed_${code}`);
        else if (!closingOnPurpose) {
          closedByServer++;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
        }
      });
    });
  const lane = async () => {
    while (next < cmd.tokens.length) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(cmd.concurrency, cmd.tokens.length) }, lane));
  process.send!({ progress: true, opened, failed });
  return { opened, failed, failures, elapsedMs: performance.now() - t0 };
}

function windowStats(): WindowStats {
  const cpu = process.cpuUsage(windowCpu);
  return {
    frames,
    otherFrames,
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
  latency.reset();
  frames = 0;
  otherFrames = 0;
  closedByServer = 0;
  closeCodes = {};
  windowCpu = process.cpuUsage();
  windowStart = performance.now();
}

async function closeSockets(count?: number): Promise<number> {
  closingOnPurpose = true;
  const victims = sockets.splice(0, count ?? sockets.length);
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
        cursors: {},
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

/** Open-loop HTTP sends to Chat: a fixed schedule, keep-alive connections, a cap on requests in flight. */
async function send(cmd: SendCommand): Promise<SendResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: cmd.maxInFlight });
  const url = new URL('/chat/send', cmd.chatUrl);
  const sendLatency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const acked: Array<[string, number]> = [];
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
    inFlight++;
    const p = new Promise<void>((resolve) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${pair.token}` } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const t = performance.now();
            if (res.statusCode === 201) {
              ok++;
              sendLatency.record(t - started);
              acked.push([key, performance.timeOrigin + t]);
            } else errors[`http_${res.statusCode}`] = (errors[`http_${res.statusCode}`] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => {
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
    if (elapsed >= cmd.durationMs) break;
    const due = Math.floor((cmd.rate * elapsed) / 1000);
    while (attempted < due) {
      if (inFlight >= cmd.maxInFlight) skipped++;
      else fire(attempted);
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
  return { attempted, ok, errors, skipped, sendLatency: sendLatency.snapshot(), elapsedMs: performance.now() - t0, acked };
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
