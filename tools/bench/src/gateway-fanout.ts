/**
 * A quick local measurement of one gateway process: connect rate, and live fan-out throughput
 * and latency for events published straight to `chat.events` (Chat is not in the loop, so this
 * measures the gateway, not the publisher).
 *
 *   node --conditions=development --import tsx tools/bench/src/gateway-fanout.ts [users] [socketsPerUser] [events]
 *
 * Real Auth (for users and JWKS) and a real gateway process, via @chat/testkit. The clients run
 * in this process with the `ws` package, which on a 2-core machine is itself a large part of
 * the cost: read the numbers as a floor. `make bench` (scenario 3) measures properly.
 */
import { randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import WebSocket from 'ws';
import { encodeCursor, EVENTS_EXCHANGE } from '@chat/common/contracts';
import { registerAndLogin, startStack, type TestUser } from '@chat/testkit';

const users = Number(process.argv[2] ?? 100);
const socketsPerUser = Number(process.argv[3] ?? 10);
const events = Number(process.argv[4] ?? 20_000);

const stack = await startStack({
  services: ['auth', 'gateway'],
  gatewayDefaults: {},
  // Every socket comes from this process on 127.0.0.1, as many per user as asked: no socket caps.
  serviceEnv: { gateway: { LOG_LEVEL: 'warn', RESUME_WINDOW_MS: '0', MAX_SOCKETS_PER_USER: '0', MAX_SOCKETS_PER_ADDRESS: '0' } },
  ...(process.env.GW_PROF ? { nodeArgs: { gateway: ['--cpu-prof', `--cpu-prof-dir=${process.env.GW_PROF}`] } } : {}),
});
const { auth, gateway } = stack;
const sockets: WebSocket[] = [];
try {
  const people: TestUser[] = [];
  for (let i = 0; i < users; i += 20) people.push(...(await Promise.all(Array.from({ length: Math.min(20, users - i) }, () => registerAndLogin(auth.url)))));

  let received = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  const wsUrl = gateway.url.replace(/^http/, 'ws');
  for (let i = 0; i < people.length * socketsPerUser; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, people.length * socketsPerUser - i) }, (_, j) => {
        const user = people[(i + j) % people.length]!;
        return new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`${wsUrl}/?token=${user.token}`);
          ws.on('message', (data) => {
            const text = data.toString();
            if (text.startsWith('{"type":"ready"')) return resolve();
            received++;
            const at = text.indexOf('"createdAt":"');
            if (at > 0 && received % 50 === 0) latencies.push(Date.now() - Date.parse(text.slice(at + 13, at + 37)));
          });
          ws.on('error', reject);
          sockets.push(ws);
        });
      }),
    );
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  console.log(`connected ${sockets.length} sockets in ${connectSeconds.toFixed(2)} s (${Math.round(sockets.length / connectSeconds)}/s)`);

  // Each event goes from one user to another: both users' sockets get it.
  const conn = await amqpConnect(stack.infra.amqpUrl);
  const ch = await conn.createConfirmChannel();
  const seqs = new Map<string, number>();
  const next = (id: string) => {
    const seq = (seqs.get(id) ?? 0) + 1;
    seqs.set(id, seq);
    return seq;
  };
  const expected = events * 2 * socketsPerUser;
  const t1 = performance.now();
  for (let i = 0; i < events; i++) {
    const from = people[i % people.length]!;
    const to = people[(i + 1) % people.length]!;
    const event = {
      type: 'new_message',
      version: 1,
      message: { id: randomUUID(), from: from.username, to: to.username, text: `bench ${i}`, createdAt: new Date().toISOString() },
      cursors: { [from.id]: encodeCursor({ userId: from.id, seq: next(from.id) }), [to.id]: encodeCursor({ userId: to.id, seq: next(to.id) }) },
    };
    ch.publish(EVENTS_EXCHANGE, '', Buffer.from(JSON.stringify(event)), { contentType: 'application/json' });
    if (i % 1000 === 999) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  const publishSeconds = (performance.now() - t1) / 1000;
  const deadline = Date.now() + 120_000;
  while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - t1) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  console.log(
    `published ${events} events in ${publishSeconds.toFixed(2)} s; ${received}/${expected} frames delivered in ${seconds.toFixed(2)} s ` +
      `= ${Math.round(events / seconds)} events/s, ${Math.round(received / seconds)} frames/s; ` +
      `latency (createdAt → client) p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1)} ms`,
  );
  await conn.close();
} finally {
  for (const ws of sockets) ws.terminate();
  await stack.stop();
}
