/**
 * A burst of resumes after a gateway restart cannot take Chat down (issue 17). Two gateways,
 * RECEIVERS receivers spread over them, each with a cursor, under steady sends from other users;
 * both gateways are SIGKILLed and restarted at once, so every receiver resumes in the same few
 * seconds and each resume is a replay read from Chat's sync.
 *
 * What must hold:
 * - every send is answered within 1 s, 201 (or 200 for a repeat) or 503, never a timeout or a
 *   500, and Chat's /metrics shows no 500;
 * - every receiver has every message exactly once (after its client's dedupe by id) and in
 *   order, within 20 s of the restart; no receiver is closed with 1013 (a failed replay);
 * - the sync reads in flight at Chat never exceed REPLAY_CONCURRENCY × gateways: counted
 *   exactly by a proxy the gateways read Chat through (sync-concurrency-proxy.ts), and printed.
 *
 * Then the same burst against a Chat whose admission has fewer slots than the replays in flight
 * and no wait (ADMISSION_MAX_IN_FLIGHT=4, ADMISSION_MAX_WAIT_MS=0), so that it sheds replay
 * reads for certain: the gateways retry them after Retry-After instead of closing the sockets
 * with 1013 (what issue 17's failure run saw 153 times), and every receiver still catches up.
 *
 * Runs on the shared infrastructure: it stops no server, only its own gateways.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { localDatabaseProcesses } from '@chat/infra';
import { metricValue, request, sleep, startStack, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { LedgerReceiver, type Outcome } from './chaos-load.ts';
import { DeliveryLedger } from './delivery-ledger.ts';
import { SendersProcess } from './ledger-senders-process.ts';
import { CpuSampler } from './process-cpu.ts';
import { syncIds } from './support.ts';
import { syncConcurrencyProxy, type SyncConcurrency } from './sync-concurrency-proxy.ts';

const GATEWAYS = 2;
const RECEIVERS = 240;
const SENDERS = 10;
const SENDS_PER_SECOND = 50;
/** Per gateway; small next to the burst (RECEIVERS / GATEWAYS resumes each), so the bound is what holds them back. */
const REPLAY_CONCURRENCY = 8;
const ANSWER_BOUND_MS = 1_000;
const CAUGHT_UP_BOUND_MS = 20_000;
/** Chat's admission slots in the shedding scenario: fewer than the replay reads in flight. */
const SHED_SLOTS = 4;

describe('a burst of resumes after both gateways restart', () => {
  let s: Stack;
  let proxy: SyncConcurrency;
  let pairs: Array<{ sender: TestUser; receiver: TestUser }>;
  let devices: LedgerReceiver[];
  const ledger = new DeliveryLedger();
  let registeredMs = 0;
  let seededMs = 0;
  const gatewayEnv = () => ({ CHAT_URL: proxy.url, REPLAY_CONCURRENCY: String(REPLAY_CONCURRENCY) });

  /** SIGKILLs every running gateway, then starts each again on its ports, all at once. */
  async function restartGateways(): Promise<{ killedAt: number; restartedAt: number; restarted: RunningService[] }> {
    const running = s.gateways.filter((g) => g.proc.exitCode === null && g.proc.signalCode === null);
    const killedAt = Date.now();
    await Promise.all(running.map((g) => g.stop('SIGKILL')));
    const restarted = await Promise.all(running.map((g) => s.start('gateway', { port: g.port, metricsPort: g.metricsPort, env: gatewayEnv() })));
    return { killedAt, restartedAt: Date.now(), restarted };
  }

  before(async () => {
    const t0 = Date.now();
    s = await startStack({ services: ['auth', 'chat'] });
    proxy = await syncConcurrencyProxy(s.chat.url);
    for (let i = 0; i < GATEWAYS; i++) await s.start('gateway', { env: gatewayEnv() });
    const users = await inBatches(RECEIVERS + SENDERS, 25, (i) => s.user(i < SENDERS ? 'snd' : 'rcv'));
    const senders = users.slice(0, SENDERS);
    pairs = users.slice(SENDERS).map((receiver, i) => ({ sender: senders[i % SENDERS]!, receiver }));
    devices = pairs.map(({ receiver }, i) => new LedgerReceiver(receiver, s.gateways[i % GATEWAYS]!.url, i % GATEWAYS, ledger));
    for (const d of devices) d.start();
    await until('every receiver live', () => devices.every((d) => d.state === 'live'), 30_000);
    registeredMs = Date.now() - t0;
    // A first message for each receiver, so that each has a cursor to resume from.
    await inBatches(pairs.length, 10, (i) => seed(s.chat.url, pairs[i]!, ledger));
    await until('every seed delivered', () => ledger.missingAckedBy(Infinity).length === 0, 20_000);
    seededMs = Date.now() - t0 - registeredMs;
  });
  after(async () => {
    for (const d of devices ?? []) d.stop();
    await s?.stop();
    await proxy?.close();
  });

  it('holds REPLAY_CONCURRENCY across pods; sends stay answered within 1 s; every receiver catches up exactly once, in order, within 20 s', { timeout: 120_000 }, async () => {
    proxy.reset();

    const cpu = new CpuSampler(500);
    cpu.add('chat', () => [s.chat.proc.pid!]);
    cpu.add('gateways', () => s.gateways.filter((g) => g.proc.exitCode === null && g.proc.signalCode === null).map((g) => g.proc.pid!));
    cpu.add('database', () => localDatabaseProcesses());
    cpu.add('test process (receivers, proxy)', () => [process.pid], false);
    // In a process of its own: what it times is Chat's answer, not this process's 240 receivers.
    const load = new SendersProcess(pairs, ledger, { chatUrl: s.chat.url, perSecond: SENDS_PER_SECOND / pairs.length, maxInFlight: 2, attemptTimeoutMs: 5_000 });
    cpu.add('senders', () => (load.pid === undefined ? [] : [load.pid]), false);
    cpu.start();
    await sleep(3_000);
    const steadyFrom = Date.now() - 2_500;

    // Both gateways at once: SIGKILL, then start again on the same ports.
    const machineAtKill = machineCpu();
    // The receivers' event loop (the senders time their sends in a process of their own).
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const closesBefore = devices.map((d) => ({ ...d.stats.closes }));
    const { killedAt, restartedAt, restarted } = await restartGateways();

    // Caught up: every message acknowledged before the restart finished, and everything after it as it comes.
    const caughtUp = await until('every receiver caught up', () => ledger.missingAckedBy(Date.now() - 1_000).length === 0 && devices.every((d) => d.state === 'live'), CAUGHT_UP_BOUND_MS + 10_000)
      .then(() => Date.now() - restartedAt, () => undefined);
    const burstEnd = Date.now();
    const machineBusy = machineCpu(machineAtKill);
    loopDelay.disable();
    await sleep(3_000); // steady load after the burst too
    await load.stop(10_000);
    await until('the last messages delivered', () => ledger.missingAckedBy(Infinity).length === 0, 15_000).catch(() => undefined);
    await sleep(500); // late duplicates count too

    const mismatches = await againstSync(s.chat.url, pairs, ledger);
    cpu.stop();
    const cores = (from: number, to: number) => cpu.names().map((n) => `${n} ${cpu.cores(n, from, to)?.toFixed(2) ?? '-'}`).join(', ');
    // What the rest of the machine took meanwhile (Auth, RabbitMQ, the kernel, other engineers' work).
    const others = Math.max(0, machineBusy.busy - cpu.names().reduce((n, name) => n + (cpu.cores(name, killedAt, burstEnd) ?? 0), 0));

    const report = ledger.report();
    const attempts = load.attempts;
    const outcomes = Object.fromEntries((['created', 'repeat', 'unavailable', 'server_error', 'refused', 'timeout', 'network'] as Outcome[]).map((o) => [o, attempts.filter((a) => a.outcome === o).length]));
    const latencies = attempts.map((a) => a.endedAt - a.startedAt).sort((a, b) => a - b);
    const slowestMs = latencies.at(-1) ?? 0;
    const p99Ms = latencies[Math.floor(0.99 * (latencies.length - 1))] ?? 0;
    const slow = attempts.filter((a) => a.endedAt - a.startedAt > 500).map((a) => `${((a.startedAt - killedAt) / 1000).toFixed(1)} s: ${a.endedAt - a.startedAt} ms`);
    // Chat's own view of the same sends: answered within 1 s by its clock (client-side lag excluded).
    const chatSends = await metricValue(s.chat, 'http_request_duration_seconds_count', { route: '/chat/send' });
    const chatSendsWithin1s = await metricValue(s.chat, 'http_request_duration_seconds_bucket', { route: '/chat/send', le: '1' });
    const chat500 = await metricValue(s.chat, 'http_request_duration_seconds_count', { status: '500' });
    const chatSync503 = await metricValue(s.chat, 'http_request_duration_seconds_count', { route: '/chat/sync', status: '503' });
    const logged500 = s.chat.output().match(/a 500 is a bug/g)?.length ?? 0;
    const closesAfter = devices.map((d, i) => diff(d.stats.closes, closesBefore[i]!));
    const replayClosed = closesAfter.reduce((n, c) => n + (c['1013'] ?? 0), 0);
    const gatewayCounts = await Promise.all(restarted.map((g) => replayCounts(g)));
    console.log(
      [
        `replay burst: ${RECEIVERS} receivers on ${GATEWAYS} gateways (REPLAY_CONCURRENCY ${REPLAY_CONCURRENCY}), ${SENDS_PER_SECOND} sends/s from ${SENDERS} senders`,
        `  setup: users and sockets ${(registeredMs / 1000).toFixed(1)} s, seeded ${(seededMs / 1000).toFixed(1)} s; gateways down for ${((restartedAt - killedAt) / 1000).toFixed(1)} s (SIGKILL to both ready)`,
        `  sync reads through the proxy: ${proxy.requests}, peak in flight ${proxy.peak} (bound ${REPLAY_CONCURRENCY * GATEWAYS}), answers ${JSON.stringify(proxy.statuses)}; Chat answered ${chatSync503} syncs with 503`,
        `  replays after the restart: ${gatewayCounts.map((c, i) => `gateway ${i}: ${JSON.stringify(c)}`).join('; ')}`,
        `  caught up ${caughtUp === undefined ? 'never' : `${(caughtUp / 1000).toFixed(1)} s`} after the restart; receivers' closes after the kill ${JSON.stringify(merge(closesAfter))}`,
        `  sends: ${load.sent} (${attempts.length} attempts): ${JSON.stringify(outcomes)}, p99 ${p99Ms} ms, slowest answer ${slowestMs} ms; answers over 500 ms (start from the kill: latency): ${slow.join(', ') || 'none'}`,
        `  Chat's view: ${chatSendsWithin1s} of ${chatSends} sends (seeds included) answered within 1 s; 500s on /metrics ${chat500}, in its log ${logged500}; ` +
          `the receivers' event loop from the kill to caught up: delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
        `  cores used: steady ${cores(steadyFrom, killedAt)}; from the kill to caught up ${cores(killedAt, burstEnd)}; the whole machine then ${machineBusy.busy.toFixed(2)} of ${machineBusy.cores} cores busy, ${others.toFixed(2)} of them in processes not listed (Auth, RabbitMQ, the kernel, other engineers' work)`,
        `  ledger: acknowledged ${report.acknowledged}, delivered ${report.delivered}, frames ${report.frames}, duplicates before dedupe ${report.duplicates}, lost ${report.lost.length}, out of order ${report.outOfOrder.length}`,
      ].join('\n'),
    );

    assert.ok(proxy.requests >= RECEIVERS, `every receiver resumed with a replay read (${proxy.requests} sync reads)`);
    assert.ok(proxy.peak <= REPLAY_CONCURRENCY * GATEWAYS, `sync reads in flight at Chat peaked at ${proxy.peak}, over REPLAY_CONCURRENCY × gateways`);
    for (const o of ['server_error', 'timeout', 'network', 'refused'] as const) assert.equal(outcomes[o], 0, `no send ${o}`);
    assert.ok(slowestMs <= ANSWER_BOUND_MS, `every send answered within ${ANSWER_BOUND_MS} ms (slowest ${slowestMs} ms; Chat's own clock: ${chatSends - chatSendsWithin1s} over 1 s; meanwhile ${others.toFixed(2)} of ${machineBusy.cores} cores went to processes not listed above, other engineers' work included)`);
    assert.equal(chat500, 0, "no 500 on Chat's /metrics");
    assert.equal(logged500, 0, "no unhandled error in Chat's log");
    assert.equal(replayClosed, 0, 'no receiver was closed with 1013 (a replay that failed)');
    assert.ok(caughtUp !== undefined && caughtUp <= CAUGHT_UP_BOUND_MS, `every receiver caught up within ${CAUGHT_UP_BOUND_MS} ms of the restart`);
    assert.equal(report.lost.length, 0, `lost: ${report.lost.slice(0, 5).join(', ')}`);
    assert.deepEqual(report.outOfOrder, [], 'delivered out of the order the senders fixed');
    assert.deepEqual(mismatches.slice(0, 5), [], 'every device shows exactly its sync: each message once, in order');
    assert.equal(load.unresolved, 0, 'every message was acknowledged');
    assert.ok(report.acknowledged >= RECEIVERS + 0.5 * SENDS_PER_SECOND * 6, `the load ran (${report.acknowledged} acknowledged)`);
  });

  it('when Chat sheds the replay reads (fewer admission slots than replays, no wait), the gateways retry them: no 1013, every receiver catches up', { timeout: 120_000 }, async () => {
    // Chat restarted (same port, behind the same proxy) with 4 slots and no wait: of the 16 sync
    // reads the gateways send at once, most are refused with 503 and Retry-After: 1.
    await s.restart('chat', 'SIGTERM', { ADMISSION_MAX_IN_FLIGHT: String(SHED_SLOTS), ADMISSION_MAX_WAIT_MS: '0' });
    // A message for each receiver while nobody waits for it, so that each replay has one to bring.
    await inBatches(pairs.length, 4, (i) => seed(s.chat.url, pairs[i]!, ledger));
    await until('the new messages delivered live', () => ledger.missingAckedBy(Infinity).length === 0, 20_000);
    proxy.reset();
    const closesBefore = devices.map((d) => ({ ...d.stats.closes }));
    const { killedAt, restartedAt, restarted } = await restartGateways();
    // Messages for half of the receivers while their gateway is down or coming back: a backlog to replay.
    await inBatches(pairs.length / 2, 4, (i) => seed(s.chat.url, pairs[2 * i]!, ledger));
    const caughtUp = await until('every receiver caught up', () => ledger.missingAckedBy(Infinity).length === 0 && devices.every((d) => d.state === 'live'), CAUGHT_UP_BOUND_MS + 10_000)
      .then(() => Date.now() - restartedAt, () => undefined);
    await sleep(500);
    const mismatches = await againstSync(s.chat.url, pairs, ledger);
    const closesAfter = devices.map((d, i) => diff(d.stats.closes, closesBefore[i]!));
    const gatewayCounts = await Promise.all(restarted.map((g) => replayCounts(g)));
    const retries = gatewayCounts.reduce((n, c) => n + c.retries!, 0);
    const failed = gatewayCounts.reduce((n, c) => n + c.failed!, 0);
    const report = ledger.report();
    console.log(
      [
        `replay burst against a shedding Chat (ADMISSION_MAX_IN_FLIGHT ${SHED_SLOTS}, ADMISSION_MAX_WAIT_MS 0): gateways down for ${((restartedAt - killedAt) / 1000).toFixed(1)} s`,
        `  sync reads through the proxy: ${proxy.requests}, peak in flight ${proxy.peak} (bound ${REPLAY_CONCURRENCY * GATEWAYS}), answers ${JSON.stringify(proxy.statuses)}`,
        `  replays: ${gatewayCounts.map((c, i) => `gateway ${i}: ${JSON.stringify(c)}`).join('; ')}`,
        `  caught up ${caughtUp === undefined ? 'never' : `${(caughtUp / 1000).toFixed(1)} s`} after the restart; receivers' closes after the kill ${JSON.stringify(merge(closesAfter))}`,
        `  ledger: acknowledged ${report.acknowledged}, delivered ${report.delivered}, duplicates before dedupe ${report.duplicates}, lost ${report.lost.length}, out of order ${report.outOfOrder.length}`,
      ].join('\n'),
    );
    assert.ok((proxy.statuses['503'] ?? 0) > 0, 'Chat shed replay reads (the scenario took effect)');
    assert.ok(retries > 0, 'the gateways retried them');
    assert.equal(failed, 0, 'no replay failed');
    assert.equal(closesAfter.reduce((n, c) => n + (c['1013'] ?? 0), 0), 0, 'no receiver was closed with 1013');
    assert.ok(proxy.peak <= REPLAY_CONCURRENCY * GATEWAYS, `sync reads in flight peaked at ${proxy.peak}`);
    assert.ok(caughtUp !== undefined && caughtUp <= CAUGHT_UP_BOUND_MS, `every receiver caught up within ${CAUGHT_UP_BOUND_MS} ms of the restart`);
    assert.equal(report.lost.length, 0);
    assert.deepEqual(report.outOfOrder, []);
    assert.deepEqual(mismatches.slice(0, 5), [], 'every device shows exactly its sync');
  });
});

/** Each receiver's sync against what its device showed after dedupe: the receivers whose differ. */
async function againstSync(chatUrl: string, pairs: Array<{ receiver: TestUser }>, ledger: DeliveryLedger): Promise<string[]> {
  const mismatches: string[] = [];
  await inBatches(pairs.length, 10, async (i) => {
    const { receiver } = pairs[i]!;
    // Retried: in the shedding scenario Chat refuses this reader's reads as well.
    let sync: string[] | undefined;
    for (let attempt = 1; sync === undefined; attempt++) {
      sync = await syncIds(chatUrl, receiver, '').catch((err: Error) => {
        if (!/sync: 503/.test(err.message) || attempt >= 20) throw err;
        return sleep(200).then(() => undefined);
      });
    }
    const shown = ledger.deliveredTo(receiver.username);
    if (shown.join() !== sync.join()) mismatches.push(`${receiver.username}: device ${shown.length}, sync ${sync.length}`);
  });
  return mismatches;
}

/** One message to the pair's receiver, acknowledged in the ledger like the load's. */
async function seed(chatUrl: string, pair: { sender: TestUser; receiver: TestUser }, ledger: DeliveryLedger): Promise<void> {
  const clientMsgId = randomUUID();
  const firstTriedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    const res = await request(`${chatUrl}/chat/send`, { token: pair.sender.token, body: { to: pair.receiver.username, text: 'seed', clientMsgId } });
    if (res.status === 201 || res.status === 200) {
      ledger.acknowledge({ id: res.body.message.id, clientMsgId, sender: pair.sender.username, receiver: pair.receiver.username, status: res.status, firstTriedAt, ackedAt: Date.now(), attempts: attempt });
      return;
    }
    if (res.status !== 503 || attempt >= 10) throw new Error(`seed: ${res.status} ${res.text}`);
    await sleep(200 * attempt);
  }
}

/** `n` tasks, at most `width` at once; their results in order. */
async function inBatches<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A restarted gateway's replay results and retries, from its /metrics. */
async function replayCounts(g: RunningService): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const result of ['synced', 'failed', 'resync_required']) out[result] = await metricValue(g, 'gateway_replays_total', { result });
  out.retries = await metricValue(g, 'gateway_replay_retries_total');
  return out;
}

function diff(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

function merge(counts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of counts) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The machine's CPU (all processes, from /proc/stat): ticks so far, or since `from` as cores busy on average. */
function machineCpu(): { busyTicks: number; totalTicks: number; busy: number; cores: number };
function machineCpu(from: { busyTicks: number; totalTicks: number }): { busyTicks: number; totalTicks: number; busy: number; cores: number };
function machineCpu(from?: { busyTicks: number; totalTicks: number }) {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, ...fields] = lines[0]!.trim().split(/\s+/);
  const ticks = fields.map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const totalTicks = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const busyTicks = totalTicks - idle;
  const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  const busy = from ? (cores * (busyTicks - from.busyTicks)) / Math.max(1, totalTicks - from.totalTicks) : 0;
  return { busyTicks, totalTicks, busy, cores };
}
