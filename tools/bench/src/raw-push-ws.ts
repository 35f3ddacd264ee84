/**
 * Scenario 11's floor on the `ws` package (node:http + `ws`, as the reference gateway): no
 * broker, no JWT check, no logic. It accepts the load generator's sockets (`/?token=…`: the token
 * is only read for its user, never verified), greets each with a `ready` frame, and on
 * `POST /push {rate, durationMs, pairs}` pushes `rate` events/s for `durationMs`, each one
 * `new_message` frame (the gateways' shape and size) to every socket of the event's target user
 * with `ws.send(frame)`. Answers with what it pushed once done. Its CPU per frame is the least a
 * gateway on `ws` could spend. Env: PORT. Not a product: it lives in tools/bench.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { parsePushCommand, pushLoop, readyFrame, tokenOf, tokenUser } from './raw-push-plan.js';

const port = Number(process.env.PORT ?? '0');
const byUser = new Map<string, Set<WebSocket>>();
let pushing = false;

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 });

const server = createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/readyz' || req.url === '/healthz')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/push') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    let cmd;
    try {
      cmd = parsePushCommand(body);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
      return;
    }
    if (pushing) {
      res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":"a push is running"}');
      return;
    }
    pushing = true;
    void pushLoop(cmd, (frame, to) => {
      const set = byUser.get(to);
      if (!set) return 0;
      for (const ws of set) ws.send(frame);
      return set.size;
    })
      .then(
        (result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result)),
        (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) })),
      )
      .finally(() => (pushing = false));
  });
});

server.on('upgrade', (req, socket, head) => {
  const user = tokenUser(tokenOf((req.url ?? '').split('?')[1] ?? '') ?? '');
  socket.on('error', () => socket.destroy());
  if (!user) {
    socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    let set = byUser.get(user.username);
    if (!set) byUser.set(user.username, (set = new Set()));
    set.add(ws);
    ws.send(readyFrame(user));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      const s = byUser.get(user.username);
      s?.delete(ws);
      if (s?.size === 0) byUser.delete(user.username);
    });
  });
});

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ msg: 'raw ws push server listening', port: typeof addr === 'object' && addr ? addr.port : port }));
});

const stop = () => {
  server.close();
  // process.exit flushes --cpu-prof when the server is profiled.
  setTimeout(() => process.exit(0), 100);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
