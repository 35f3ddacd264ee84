/**
 * The floor for scenario 5: a bare uWebSockets.js server with the gateway's socket options
 * (no compression, automatic pings, the same idle timeout and limits), which accepts every
 * upgrade with an empty user-data object and answers `ready`, nothing else. What it costs per idle
 * socket is what uWS and V8 cost before any gateway state. PORT from the environment; GET /metrics
 * reports nodejs_heap_size_used_bytes like the gateway's prom-client metrics. Started by
 * tools/bench/src/socket-memory/run.ts (`raw`), beside it.
 */
import uWS from 'uWebSockets.js';

const port = Number(process.env.PORT ?? 0);
const app = uWS.App();
app.ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 1024 * 1024 + 256 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  upgrade: (res, req, context) => {
    res.upgrade({}, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    ws.send('{"type":"ready"}', false, false);
  },
});
app.get('/readyz', (res) => {
  res.end('ok');
});
app.get('/metrics', (res) => {
  res.end(`nodejs_heap_size_used_bytes ${process.memoryUsage().heapUsed}\n`);
});
app.listen(port, (s) => {
  if (!s) {
    console.error(`cannot listen on ${port}`);
    process.exit(1);
  }
});
