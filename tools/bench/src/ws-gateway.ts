/**
 * The reference gateway for scenario 6: the same job as services/gateway, built on the `ws`
 * package and node:http instead of uWebSockets.js. It does the same JWT check (the common
 * verifier against Auth's JWKS, before the upgrade), the same queue consumption
 * (@chat/common/event-consumer, with the same prefetch), the same recipient resolution (the event's
 * cursor keys; the common user directory, with a service token, only for an event without
 * cursors) and the same delivery (one serialization per event, a frame per socket of every
 * recipient, in event order, ack after delivery, 1013 past a backpressure bound). It lives in tools/bench only to be measured against; it is not a product.
 *
 * Env: PORT, AMQP_URL, AUTH_URL, SERVICE_TOKEN_SECRET, JWT_ISSUER (chat-auth), JWT_AUDIENCE
 * (chat), POD_NAME, BROKER_PREFETCH (1000), MAX_BACKPRESSURE_BYTES (1 MiB), USER_CACHE_TTL_MS
 * (60000), USER_CACHE_MAX (50000): the gateway's names and defaults.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { publicMessage, RequestError, type NewMessageEvent } from '@chat/common/contracts';
import { createLogger, gatewayQueueName } from '@chat/common/config';
import { EventConsumer } from '@chat/common/event-consumer';
import { bearerToken, createJwtVerifier, createServiceTokenSource } from '@chat/common/jwt';
import { createUserDirectory, type DirectoryUser } from '@chat/common/user-directory';
import { WebSocketServer, type WebSocket } from 'ws';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`ws-gateway: ${name} is required`);
  return v;
};
const port = Number(env('PORT', '0'));
const authUrl = env('AUTH_URL', 'http://127.0.0.1:5001');
const prefetch = Number(env('BROKER_PREFETCH', '1000'));
const maxBackpressure = Number(env('MAX_BACKPRESSURE_BYTES', String(1024 * 1024)));

const verifyUser = createJwtVerifier({ jwksUrl: `${authUrl}/.well-known/jwks.json`, issuer: env('JWT_ISSUER', 'chat-auth'), audience: env('JWT_AUDIENCE', 'chat') });
const directory = createUserDirectory({
  authUrl,
  credential: createServiceTokenSource('gateway', env('SERVICE_TOKEN_SECRET')),
  ttlMs: Number(env('USER_CACHE_TTL_MS', '60000')),
  max: Number(env('USER_CACHE_MAX', '50000')),
});

interface SocketUser {
  id: string;
  username: string;
}
const socketsByUser = new Map<string, Set<WebSocket>>();
const counters = { consumed: 0, delivered: 0, dropped: 0, framesOut: 0, open: 0 };
let consuming = false;

async function waitUntil(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((r) => setTimeout(r, 50));
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024, skipUTF8Validation: false });

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  } else if (req.url === '/readyz') {
    res.writeHead(consuming ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: consuming }));
  } else if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(
      [
        `gateway_open_sockets ${counters.open}`,
        `gateway_events_consumed_total ${counters.consumed}`,
        `gateway_events_delivered_total ${counters.delivered}`,
        `gateway_events_dropped_total ${counters.dropped}`,
        `gateway_frames_out_total ${counters.framesOut}`,
        '',
      ].join('\n'),
    );
  } else {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no such route"}}');
  }
});

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Service Unavailable'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const token = bearerToken(req.headers.authorization) ?? (query.get('token') || undefined);
  if (!token) return refuse(socket, 401, 'unauthorized', 'missing token');
  socket.on('error', () => socket.destroy());
  verifyUser(token).then(
    (user) => {
      if (user.exp <= Date.now() / 1000) return refuse(socket, 401, 'unauthorized', 'token expired');
      wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, { id: user.id, username: user.username }));
    },
    (err: unknown) => {
      const status = err instanceof RequestError ? err.status : 401;
      refuse(socket, status === 503 ? 503 : 401, status === 503 ? 'unavailable' : 'unauthorized', err instanceof Error ? err.message : 'invalid token');
    },
  );
});

function onOpen(ws: WebSocket, user: SocketUser): void {
  let set = socketsByUser.get(user.id);
  if (!set) socketsByUser.set(user.id, (set = new Set()));
  set.add(ws);
  counters.open++;
  ws.send(JSON.stringify({ type: 'ready', user }));
  ws.on('message', (data, isBinary) => {
    let type: unknown;
    try {
      type = isBinary ? undefined : (JSON.parse(data.toString()) as { type?: unknown }).type;
    } catch {
      type = undefined;
    }
    ws.send(type === 'ping' ? '{"type":"pong"}' : '{"type":"error","error":{"code":"bad_frame","message":"unsupported frame"}}');
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    counters.open--;
    const s = socketsByUser.get(user.id);
    s?.delete(ws);
    if (s?.size === 0) socketsByUser.delete(user.id);
  });
}

function send(ws: WebSocket, frame: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(frame);
  counters.framesOut++;
  if (ws.bufferedAmount > maxBackpressure) ws.close(1013, 'slow_consumer');
}

/** Frames leave in event order; as ours does, an event with cursors is delivered at once, synchronously, and one that needs a lookup holds every later one behind it. */
let tail: Promise<void> = Promise.resolve();
let waiting = 0;

function deliverTo(event: NewMessageEvent, userIds: Iterable<string>): void {
  const head = `{"type":"new_message","message":${JSON.stringify(publicMessage(event.message))}`;
  let delivered = false;
  for (const userId of userIds) {
    const sockets = socketsByUser.get(userId);
    if (!sockets) continue;
    const cursor = event.cursors[userId];
    const frame = cursor === undefined ? `${head}}` : `${head},"cursor":${JSON.stringify(cursor)}}`;
    for (const ws of sockets) send(ws, frame);
    delivered = true;
  }
  if (delivered) counters.delivered++;
  else counters.dropped++;
}

function deliver(event: NewMessageEvent): Promise<void> | undefined {
  // As ours does: the recipients are the event's cursor keys; only an event without cursors
  // (published before they existed) has its 1:1 participants looked up in the directory.
  const recipients = Object.keys(event.cursors);
  if (waiting === 0 && recipients.length > 0) {
    deliverTo(event, recipients);
    return undefined;
  }
  const { from, to } = event.message;
  const resolving: Promise<string[]> =
    socketsByUser.size === 0
      ? Promise.resolve([])
      : recipients.length > 0 || to === undefined
        ? Promise.resolve(recipients)
        : Promise.all([directory.resolve(from), directory.resolve(to)]).then((users) => users.filter((u): u is DirectoryUser => u !== null).map((u) => u.id));
  resolving.catch(() => undefined);
  waiting++;
  const done = tail
    .then(() => resolving)
    .then(
      (userIds) => deliverTo(event, new Set(userIds)),
      () => {
        counters.dropped++;
      },
    )
    .finally(() => {
      waiting--;
    });
  tail = done;
  return done;
}

// The same consumer as ours (one parse per event, acks batched with `multiple` after delivery).
const consumer = new EventConsumer({
  url: env('AMQP_URL'),
  queue: gatewayQueueName(process.env.POD_NAME ?? 'ws-ref'),
  prefetch,
  logger: createLogger({ service: 'ws-gateway', level: 'warn' }),
  onConsumed: () => void counters.consumed++,
  onMalformed: () => void counters.dropped++,
  onEvent: deliver,
});
consumer.start();
await waitUntil(() => consumer.isConsuming());
consuming = true;

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ msg: 'ws reference gateway listening', port: typeof addr === 'object' && addr ? addr.port : port }));
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  consuming = false;
  await consumer.stopConsuming();
  await tail;
  for (const ws of wss.clients) ws.close(1012, 'service_restart');
  await consumer.shutdown();
  server.close();
  // A bounded grace, then exit: process.exit also flushes --cpu-prof.
  setTimeout(() => process.exit(0), 500);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
