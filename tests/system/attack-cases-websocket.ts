/**
 * The gateway's WebSocket edge: upgrades without a usable token or from a disallowed origin
 * are refused before any socket exists; frames that are not the protocol get an `error` frame
 * and the socket stays open; oversize frames and floods close it with the documented codes;
 * and a thousand connects and disconnects leave no memory behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request, sleep, TestClient } from '@chat/testkit';
import type { AttackCase, Fixtures, Outcome } from './attack-suite.ts';
import { upgrade } from './attack-upgrade.ts';

const unauthorized = { status: 401, code: 'unauthorized' };

/** The origin the suite's gateway allows (attacks.test.ts sets ALLOWED_ORIGINS). */
export const ALLOWED_ORIGIN = 'http://127.0.0.1:5000';

function refused(name: string, expect: AttackCase['expect'], how: (f: Fixtures) => Parameters<typeof upgrade>[1]): AttackCase {
  return { area: 'websocket', name: `upgrade ${name}`, service: 'gateway', expect, send: (f) => upgrade(f.stack.gateway.url, how(f)) };
}

/**
 * Sends `frames` on Alice's socket; the outcome is how the socket ended (1000: still open,
 * closed by us) and the first `error` frame's code or the close reason.
 */
function frames(name: string, expect: AttackCase['expect'], send: (ws: TestClient) => void, opts: { waitClose?: boolean } = {}): AttackCase {
  return {
    area: 'websocket',
    name,
    service: 'gateway',
    expect,
    async send(f): Promise<Outcome> {
      const ws = await TestClient.connect(f.stack.gateway.url, f.alice.token);
      try {
        send(ws);
        if (opts.waitClose) {
          const closed = await ws.waitClosed(5_000);
          return { status: closed.code, code: closed.reason || undefined };
        }
        const error = await ws.next((frame) => frame.type === 'error', 5_000);
        // Still serving this very socket: a ping after the bad frame is answered.
        ws.send({ type: 'ping' });
        await ws.next((frame) => frame.type === 'pong', 5_000);
        return { status: ws.isOpen ? 1000 : (ws.closeResult?.code ?? 0), code: error.error.code };
      } finally {
        ws.close();
      }
    },
  };
}

/** Resident memory of a process, from the kernel (no /metrics needed). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

export const WEBSOCKET_CASES: AttackCase[] = [
  refused('without a token', unauthorized, () => ({})),
  refused('with an empty token', unauthorized, () => ({ query: 'token=' })),
  refused('with the token as access_token=', unauthorized, (f) => ({ query: `access_token=${f.alice.token}` })),
  // The socket lives on `/` only (http-routes.ts): any other path is no route at all.
  refused('with the token in the path', { status: 404, code: 'not_found' }, (f) => ({ path: `/${f.alice.token}` })),
  refused('with the token as the subprotocol', unauthorized, (f) => ({ headers: { 'sec-websocket-protocol': f.alice.token } })),
  refused('with the token in a cookie', unauthorized, (f) => ({ headers: { cookie: `token=${f.alice.token}` } })),
  refused('with the token under another auth scheme', unauthorized, (f) => ({ headers: { authorization: `Token ${f.alice.token}` } })),
  refused('with a 10 KB token', unauthorized, () => ({ query: `token=${'a'.repeat(10_000)}` })),
  refused('from a disallowed Origin', { status: 403, code: 'forbidden_origin' }, (f) => ({ query: `token=${f.alice.token}`, headers: { origin: 'https://evil.example' } })),
  refused('from an Origin that only starts like the allowed one', { status: 403, code: 'forbidden_origin' }, (f) => ({ query: `token=${f.alice.token}`, headers: { origin: `${ALLOWED_ORIGIN}.evil.example` } })),
  {
    area: 'websocket',
    name: 'a plain GET on the socket path',
    service: 'gateway',
    expect: { status: 426, code: 'upgrade_required' },
    async send(f) {
      const res = await request(`${f.stack.gateway.url}/?token=${f.alice.token}`);
      return { status: res.status, code: res.body?.error?.code, body: res.body };
    },
  },
  frames('a garbage frame', { status: 1000, code: 'bad_frame' }, (ws) => ws.send('}{ not json')),
  frames('a binary frame', { status: 1000, code: 'bad_frame' }, (ws) => ws.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true })),
  frames('a JSON array frame', { status: 1000, code: 'bad_frame' }, (ws) => ws.send('[{"type":"ping"}]')),
  frames('an unknown frame type', { status: 1000, code: 'bad_frame' }, (ws) => ws.send({ type: 'subscribe', conversationId: '*' })),
  frames('a frame with an operator as its type', { status: 1000, code: 'bad_frame' }, (ws) => ws.send({ type: { $ne: null } })),
  frames('a resume that is not the first frame', { status: 1000, code: 'bad_frame' }, (ws) => {
    ws.send({ type: 'ping' });
    ws.send({ type: 'resume', since: 'x' });
  }),
  frames('a frame of 17 KB', { status: 1009, code: 'frame_too_large' }, (ws) => ws.send({ type: 'ping', pad: 'x'.repeat(17 * 1024) }), { waitClose: true }),
  // Past the library's own cap (4 × MAX_FRAME_BYTES) uWS cuts the connection without a close
  // frame, as PROTOCOL.md says.
  frames('a frame of 1 MB', { status: 1006, code: undefined }, (ws) => ws.send({ type: 'ping', pad: 'x'.repeat(1024 * 1024) }), { waitClose: true }),
  frames('a flood of 200 frames', { status: 1008, code: 'rate_limited' }, (ws) => {
    for (let i = 0; i < 200; i++) ws.send({ type: 'ping' });
  }, { waitClose: true }),
  {
    area: 'websocket',
    name: '1,000 connects and disconnects: RSS after them within 20% of after the first 100',
    service: 'gateway',
    expect: { status: 200 },
    async send(f) {
      const pid = f.stack.gateway.proc.pid!;
      const cycle = async () => {
        const ws = await TestClient.connect(f.stack.gateway.url, f.alice.token);
        ws.close();
        await ws.waitClosed();
      };
      for (let i = 0; i < 100; i++) await cycle();
      await sleep(500);
      const after100 = rssBytes(pid);
      for (let i = 100; i < 1_000; i++) await cycle();
      await sleep(500);
      const after1000 = rssBytes(pid);
      const ratio = after1000 / after100;
      console.log(`# gateway RSS after 100 connect/disconnect cycles ${(after100 / 2 ** 20).toFixed(1)} MiB, after 1,000 ${(after1000 / 2 ** 20).toFixed(1)} MiB (${ratio.toFixed(3)}×)`);
      assert.ok(ratio <= 1.2, `RSS grew ${ratio.toFixed(3)}× between 100 and 1,000 cycles`);
      return { status: 200 };
    },
  },
];
