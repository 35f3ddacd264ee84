import type { GatewayMetrics } from './metrics.js';
import { closeSocket, type GatewaySocket } from './socket-state.js';

/** uWS `send` results: 1 sent, 0 sent but now backpressured, 2 dropped (past uWS's own limit). */
const SUCCESS = 1;
const DROPPED = 2;

/**
 * Sends frames with a bound on what a slow reader may have queued. Past the bound the socket is
 * closed with 1013 rather than left to grow: dropping a frame instead would break the ordering
 * and cursor guarantees, and the client recovers by reconnecting with its last cursor. Nothing
 * here waits on one socket, so a slow reader never slows the others.
 *
 * This runs once per socket per event: the buffered amount is only read when uWS reports
 * backpressure, and sent frames are counted in a plain integer that the metric reads at scrape.
 */
export class SocketSender {
  private framesOut = 0;

  constructor(metrics: GatewayMetrics, private readonly maxBackpressureBytes: number) {
    metrics.addFramesOutSource(() => {
      const n = this.framesOut;
      this.framesOut = 0;
      return n;
    });
  }

  send(ws: GatewaySocket, frame: string): boolean {
    if (ws.getUserData().closedBy !== undefined) return false;
    const result = ws.send(frame, false, false);
    if (result !== SUCCESS && (result === DROPPED || ws.getBufferedAmount() > this.maxBackpressureBytes)) {
      closeSocket(ws, 'slow_consumer');
      return false;
    }
    this.framesOut++;
    return true;
  }
}
