/**
 * Scenario 11's floor on uWebSockets.js: no broker, no JWT check, no logic. It accepts the load
 * generator's sockets (`/?token=…`: the token is only read for its user, never verified), greets
 * each with a `ready` frame, and on `POST /push {rate, durationMs, pairs}` pushes `rate` events/s
 * for `durationMs`, each one `new_message` frame (the gateways' shape and size) to every socket of
 * the event's target user, the way services/gateway writes a frame (`ws.send(frame, false,
 * false)`). Answers with what it pushed once done. Its CPU per frame is the least a gateway on
 * uWS could spend. Env: PORT. Not a product: it lives in tools/bench to be measured against.
 */
import uWS, { type WebSocket } from 'uWebSockets.js';
import { parsePushCommand, pushLoop, readyFrame, tokenOf, tokenUser } from './raw-push-plan.js';

interface UserData {
  id: string;
  username: string;
}

const port = Number(process.env.PORT ?? '0');
const byUser = new Map<string, Set<WebSocket<UserData>>>();
let pushing = false;

const app = uWS.App();
app.ws<UserData>('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024,
  idleTimeout: 0,
  maxBackpressure: 16 * 1024 * 1024,
  upgrade: (res, req, context) => {
    const user = tokenUser(tokenOf(req.getQuery() ?? '') ?? '');
    if (!user) {
      res.writeStatus('401 Unauthorized').end('{"error":{"code":"unauthorized","message":"token names no user"}}');
      return;
    }
    res.upgrade<UserData>(user, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    const { username } = ws.getUserData();
    let set = byUser.get(username);
    if (!set) byUser.set(username, (set = new Set()));
    set.add(ws);
    ws.send(readyFrame(ws.getUserData()), false, false);
  },
  message: () => undefined,
  close: (ws) => {
    const { username } = ws.getUserData();
    const set = byUser.get(username);
    set?.delete(ws);
    if (set?.size === 0) byUser.delete(username);
  },
});

app.get('/readyz', (res) => {
  res.writeHeader('content-type', 'application/json').end('{"ready":true}');
});
app.get('/healthz', (res) => {
  res.writeHeader('content-type', 'application/json').end('{"status":"ok"}');
});

app.post('/push', (res) => {
  let aborted = false;
  res.onAborted(() => (aborted = true));
  let body = Buffer.alloc(0);
  res.onData((chunk, last) => {
    body = Buffer.concat([body, Buffer.from(chunk)]);
    if (!last) return;
    let cmd;
    try {
      cmd = parsePushCommand(body.toString('utf8'));
    } catch (err) {
      res.writeStatus('400 Bad Request').end(JSON.stringify({ error: (err as Error).message }));
      return;
    }
    if (pushing) {
      res.writeStatus('409 Conflict').end('{"error":"a push is running"}');
      return;
    }
    pushing = true;
    void pushLoop(cmd, (frame, to) => {
      const set = byUser.get(to);
      if (!set) return 0;
      for (const ws of set) ws.send(frame, false, false);
      return set.size;
    }).then(
      (result) => {
        pushing = false;
        if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end(JSON.stringify(result)));
      },
      (err: unknown) => {
        pushing = false;
        if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end(JSON.stringify({ error: String(err) })));
      },
    );
  });
});

let listening: uWS.us_listen_socket | undefined;
// The callback runs synchronously, inside listen().
app.listen('127.0.0.1', port, (listen) => {
  if (!listen) {
    console.error(`raw-push-uws: could not listen on ${port}`);
    process.exit(1);
  }
  listening = listen;
  console.log(JSON.stringify({ msg: 'raw uWS push server listening', port: uWS.us_socket_local_port(listen) }));
});

const stop = () => {
  if (listening) uWS.us_listen_socket_close(listening);
  // process.exit flushes --cpu-prof when the server is profiled.
  setTimeout(() => process.exit(0), 100);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
