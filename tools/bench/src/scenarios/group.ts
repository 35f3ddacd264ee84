/**
 * Scenario 9, a group: `members` users in one group conversation, every one of them connected to
 * the gateway by one WebSocket (spread over the load generator's children as scenario 3 spreads
 * its sockets), and a few of them sending into the group at a fixed rate through
 * `POST /chat/send {conversationId}`, open loop.
 *
 *   - send latency: the 201's, at the sender;
 *   - 201 → last member: for each message, the time from its 201 to the frame on the LAST of the
 *     members' sockets (and to the first), joined by a key in the text, on one machine clock;
 *   - exactly once: each child tallies every message per socket, so a loss on one socket and a
 *     duplicate on another cannot cancel out;
 *   - database round trips per group message: chat's chat_db_round_trips_per_request histogram for
 *     POST /chat/send answered 201, Δsum/Δcount between two scrapes around the window;
 *   - CPU of chat, the gateway, the database server, the broker, Auth and the load generator over
 *     the window, which says what bounds the scenario on this machine.
 *
 * Its own chat (on a database of its own, dropped at the end) and its own gateway, so the window
 * holds only group sends and only this scenario's sockets.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Stack } from '@chat/testkit';
import type { LoadGen } from '../loadgen/pool.js';
import { describeTop, profilesIn, readProfile, topSelfTime, type TimeWindow } from '../profile.js';
import { processTable, processTree } from '../proc.js';
import { ProgressLine } from '../progress.js';
import { histogramWindow, readHistogram } from '../prom.js';
import type { ProfileSummary } from '../results.js';
import { LatencyHistogram, round3 } from '../stats.js';
import { startOurs, waitReady, type BenchUser, type Proc } from '../stack.js';
import { pollStats, SATURATED_CORE, waitCpuQuiet, waitQuiet, roundCpu, WindowMeters, type CpuSnapshot } from './common.js';
import { joinGroupDelivery, type GroupResult } from './group-plan.js';
import { databaseRoots, ROUND_TRIPS_METRIC, scrape } from './local-db.js';

export interface GroupConfig {
  /** The scenario's own budget from its start; the timed window is cut to fit it. */
  budgetMs: number;
  /** Group size, the creator included (one socket each). */
  members: number;
  /** Members that send, round-robin. */
  senders: number;
  /** Group messages per second, all senders together. */
  rate: number;
  seconds: number;
}

export interface GroupOptions {
  stack: Stack;
  auth: Proc;
  lg: LoadGen;
  /** The group's members, the creator first; registered through Auth. */
  users: BenchUser[];
  mint: (u: BenchUser) => Promise<string>;
  cfg: GroupConfig;
  deadline: number;
  track: (p: Proc) => void;
  log: (msg: string) => void;
}

export interface GroupRun {
  result: GroupResult;
  /** Stops the scenario's chat and gateway, drops its database, and summarizes their profiles over the window. */
  finish(): Promise<ProfileSummary[]>;
}

/** Chat's histogram of the time to append one message to every recipient's timeline (seconds, by conversation type). */
const FANOUT_METRIC = 'chat_fanout_duration_seconds';

/** Requests in flight at most before the sender sheds (counted as `skipped`): far above what a healthy chat needs at these rates. */
const MAX_IN_FLIGHT = 64;

export async function groupScenario(o: GroupOptions): Promise<GroupRun> {
  const { cfg, log, stack } = o;
  const t0 = performance.now();
  const run = randomBytes(3).toString('hex');
  const chatDb = `bench_group_chat_${run}`;
  const users = o.users.slice(0, cfg.members);
  const senders = Math.min(cfg.senders, users.length);
  const result: GroupResult = {
    members: users.length,
    senders,
    socketsOpen: 0,
    socketsPerChild: [],
    targetRate: cfg.rate,
    seconds: cfg.seconds,
    setup: { registerSeconds: 0, createMs: 0, connectSeconds: 0, conversationId: '' },
    warmUp: { messages: 0, complete: false, seconds: 0 },
    send: { attempted: 0, ok: 0, okPerSec: 0, errors: {}, skipped: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    roundTrips: {},
    notes: [],
    elapsedSeconds: 0,
  };
  if (users.length < cfg.members) result.notes.push(`only ${users.length} of ${cfg.members} members could be registered`);

  log(`scenario 9: a ${users.length}-member group, every member connected; ${senders} senders at ${cfg.rate}/s for ${cfg.seconds} s; chat on database ${chatDb}`);
  const chat = await startOurs(stack, 'chat', { env: { CHAT_MONGO_DB: chatDb }, profile: true, label: 'chat-group' });
  o.track(chat);
  // The gateway replays from (and may ask about memberships) this scenario's chat, not the run's.
  const gateway = await startOurs(stack, 'gateway', { env: { POD_NAME: 'bench-group', CHAT_URL: chat.url }, profile: true, label: 'gateway-group' });
  o.track(gateway);
  await waitReady(gateway);
  const db = databaseRoots(stack.infra.mongoUrl);
  const dbPids = () => ('roots' in db ? processTree(db.roots, processTable()) : []);
  let window: TimeWindow | undefined;

  const finish = async (): Promise<ProfileSummary[]> => {
    await o.lg.closeAll().catch(() => undefined);
    await chat.stop();
    await gateway.stop();
    const client = new MongoClient(stack.infra.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    await client.db(chatDb).dropDatabase().catch(() => undefined);
    await client.close().catch(() => undefined);
    return window ? summarize(result, [chat, gateway], window) : [];
  };

  try {
    const tokens = await Promise.all(users.map(o.mint));

    // ---- The group: created by the first member, the others listed ---------------------------
    const c0 = performance.now();
    const created = await fetch(`${chat.url}/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench group ${run}`, members: users.slice(1).map((u) => u.username) }),
    });
    const body = (await created.json().catch(() => ({}))) as { conversation?: { id?: string; members?: unknown[] }; error?: { code?: string; message?: string } };
    result.setup.createMs = round3(performance.now() - c0);
    const conversationId = body.conversation?.id;
    if (created.status !== 201 || !conversationId) throw new Error(`POST /conversations answered ${created.status} ${JSON.stringify(body).slice(0, 300)}`);
    result.setup.conversationId = conversationId;
    if (body.conversation?.members?.length !== users.length) result.notes.push(`the created group lists ${body.conversation?.members?.length} members, not ${users.length}`);
    log(`  group ${conversationId} created with ${users.length} members in ${result.setup.createMs.toFixed(0)} ms`);

    // ---- Every member's socket, after the creation (its system message is not in the window) ----
    const wsUrl = gateway.url.replace(/^http/, 'ws') + '/';
    const progress = new ProgressLine('group connect');
    const k0 = performance.now();
    const conn = await o.lg.connect(wsUrl, tokens, (opened, failed) => progress.update({ connections: opened, extra: failed ? `${failed} failed` : undefined }), { workers: 2 });
    progress.done();
    result.setup.connectSeconds = round3(conn.elapsedMs / 1000);
    result.socketsOpen = conn.opened;
    result.socketsPerChild = conn.perWorker.filter((n) => n > 0);
    log(`  ${conn.opened} sockets open over ${result.socketsPerChild.length} loadgen children (${result.socketsPerChild.join(' + ')}) in ${((performance.now() - k0) / 1000).toFixed(1)} s${conn.failed ? `, ${conn.failed} failed ${JSON.stringify(conn.failures)}` : ''}`);
    if (conn.opened < users.length) result.notes.push(`${users.length - conn.opened} member sockets failed to open (${JSON.stringify(conn.failures)}): each message is owed to the ${conn.opened} open ones`);

    const pairs = tokens.slice(0, senders).map((token) => ({ token, conversationId }));

    // ---- Warm-up: one message per sender, unmeasured, each waited for on every socket ----------
    // It fills chat's and the gateway's caches (users, memberships) and proves the path before the
    // timed window: a group that delivers nothing stops here with a clear note.
    const warmTag = `w${randomBytes(3).toString('hex')}`;
    const w0 = performance.now();
    await o.lg.group(warmTag);
    await o.lg.window();
    const warm = await o.lg.send({ chatUrl: chat.url, rate: 5, durationMs: Math.ceil((senders / 5) * 1000) + 100, pairs, maxInFlight: senders, tag: warmTag });
    await pollStats(o.lg, (s) => s.frames >= warm.ok * conn.opened, 15_000);
    const warmJoin = joinGroupDelivery(warm.acked, await o.lg.groupDrain(), conn.opened);
    await o.lg.group(null);
    result.warmUp = { messages: warm.ok, complete: warm.ok > 0 && warmJoin.lost === 0, seconds: round3((performance.now() - w0) / 1000) };
    log(`  warm-up: ${warm.ok} of ${warm.attempted} sends answered 201${Object.keys(warm.errors).length ? ` (errors ${JSON.stringify(warm.errors)})` : ''}; ${warmJoin.frames}/${warmJoin.expectedFrames} frames in ${result.warmUp.seconds.toFixed(1)} s`);
    if (warm.ok === 0) throw new Error(`no warm-up send answered 201: ${JSON.stringify(warm.errors)}`);
    if (!result.warmUp.complete) result.notes.push(`the warm-up lost ${warmJoin.lost} of ${warmJoin.expectedFrames} frames within 15 s`);
    await waitQuiet(o.lg, 500, 5_000);
    await waitCpuQuiet([chat.pid, gateway.pid, ...dbPids()], 0.3, 20_000);

    // ---- The timed window ----------------------------------------------------------------------
    const seconds = Math.max(3, Math.min(cfg.seconds, (o.deadline - performance.now() - 40_000) / 1000));
    if (seconds < cfg.seconds) result.notes.push(`the window was cut to ${seconds.toFixed(0)} s by the scenario's budget`);
    result.seconds = round3(seconds);
    const tag = `g${randomBytes(3).toString('hex')}`;
    const before = await scrape(chat);
    await o.lg.group(tag);
    await o.lg.window();
    o.lg.sourceWorker().progress.sent = 0;
    const meters = new WindowMeters([gateway.pid], o.lg, { chat: [chat.pid], database: dbPids(), auth: [o.auth.pid] });
    const live = new ProgressLine(`group @${cfg.rate}/s`);
    const s0 = performance.now();
    const ticker = setInterval(() => {
      void o.lg.stats().then((s) => live.update({ rate: (o.lg.sourceWorker().progress.sent ?? 0) / ((performance.now() - s0) / 1000), connections: s.open, p99Ms: s.latency.percentile(99), extra: `${s.frames} frames` }));
    }, 500);
    let res;
    try {
      res = await o.lg.send({ chatUrl: chat.url, rate: cfg.rate, durationMs: seconds * 1000, pairs, maxInFlight: MAX_IN_FLIGHT, tag });
    } finally {
      clearInterval(ticker);
      live.done();
    }
    // Frames still on their way get a bounded grace; anything later counts as lost.
    const expected = res.ok * conn.opened;
    const s = await pollStats(o.lg, (x) => x.frames >= expected, 10_000);
    const m = meters.read();
    window = m.window;
    const after = await scrape(chat);
    const tallies = await o.lg.groupDrain();
    await o.lg.group(null);

    const h = LatencyHistogram.from([res.sendLatency]);
    result.send = {
      attempted: res.attempted,
      ok: res.ok,
      okPerSec: round3(res.ok / (res.elapsedMs / 1000)),
      errors: res.errors,
      skipped: res.skipped,
      p50Ms: round3(h.percentile(50)),
      p99Ms: round3(h.percentile(99)),
      maxMs: round3(h.max),
    };
    result.delivery = joinGroupDelivery(res.acked, tallies, conn.opened);
    result.cpu = roundCpu(m.cpu);
    if (s.closedByServer) result.notes.push(`${s.closedByServer} member sockets were closed by the gateway during the window (${JSON.stringify(s.closeCodes)})`);
    const d = result.delivery;
    log(`  sends: ${res.ok}/${res.attempted} answered 201 (${result.send.okPerSec}/s), p50 ${result.send.p50Ms} ms, p99 ${result.send.p99Ms} ms${Object.keys(res.errors).length ? `, errors ${JSON.stringify(res.errors)}` : ''}${res.skipped ? `, shed ${res.skipped}` : ''}`);
    log(`  201 → last member: p50 ${d.lastMember.p50Ms} ms, p99 ${d.lastMember.p99Ms} ms (first member p50 ${d.firstMember.p50Ms} ms); frames ${d.frames}/${d.expectedFrames}, lost ${d.lost}, duplicated ${d.duplicates}`);

    // ---- Round trips per group message ---------------------------------------------------------
    const labels = { route: '/chat/send', method: 'POST', status: '201' };
    if (before === undefined || after === undefined) result.roundTrips.notMeasured = 'chat did not answer GET /metrics';
    else if (!before.includes(ROUND_TRIPS_METRIC)) result.roundTrips.notMeasured = `chat does not expose ${ROUND_TRIPS_METRIC}`;
    else {
      const rt = histogramWindow(readHistogram(before, ROUND_TRIPS_METRIC, labels), readHistogram(after, ROUND_TRIPS_METRIC, labels) ?? { buckets: [], sum: 0, count: 0 });
      if (rt) result.roundTrips = { sends: rt.count, mean: round3(rt.mean), maxLe: rt.maxLe };
      else result.roundTrips.notMeasured = `no ${ROUND_TRIPS_METRIC}{route="/chat/send",method="POST",status="201"} observation over ${res.ok} sends answered 201`;
    }
    // How long chat spends writing one group message into its members' timelines (its own histogram, where it has one).
    const fanout = before && after ? histogramWindow(readHistogram(before, FANOUT_METRIC, { type: 'group' }), readHistogram(after, FANOUT_METRIC, { type: 'group' }) ?? { buckets: [], sum: 0, count: 0 }) : undefined;
    if (fanout) result.timelineFanout = { messages: fanout.count, meanMs: round3(fanout.mean * 1000), ...(Number.isFinite(fanout.maxLe) ? { maxLeMs: round3(fanout.maxLe * 1000) } : {}) };
    log(`  database round trips per group message: ${result.roundTrips.mean !== undefined ? `mean ${result.roundTrips.mean}, max ≤ ${result.roundTrips.maxLe} over ${result.roundTrips.sends} sends` : `not measured: ${result.roundTrips.notMeasured}`}`);
    result.limit = limitOf(result.cpu, result.send, cfg.rate, conn.opened, 'roots' in db);
    if (result.timelineFanout) log(`  timeline fanout per group message: mean ${result.timelineFanout.meanMs} ms, max ${result.timelineFanout.maxLeMs !== undefined ? `≤ ${result.timelineFanout.maxLeMs} ms` : "beyond the histogram's largest bucket"}`);
    log(`  limit: ${result.limit}`);
  } catch (err) {
    // What was measured before the error stays in the result; finish() still stops everything.
    const message = err instanceof Error ? err.message : String(err);
    log(`  scenario 9 stopped on an error: ${message}`);
    result.notes.push(`stopped on an error: ${message.split('\n')[0]}`);
  } finally {
    result.elapsedSeconds = round3((performance.now() - t0) / 1000);
  }
  return { result, finish };
}

/**
 * What bounds the scenario, from the CPU over the window: whether chat kept the rate, the busiest
 * process, and each one's CPU per group message, which says where a higher rate runs out: the
 * process with the most CPU per message fills a core first, and all of them together fill the
 * machine's 2 cores (both extrapolated linearly from this one rate, and said so).
 */
export function limitOf(cpu: CpuSnapshot, send: { okPerSec: number; skipped: number; p99Ms: number }, target: number, sockets: number, dbMeasured: boolean): string {
  const perSec = send.okPerSec;
  const procs: Array<[string, number | undefined]> = [
    ['chat', cpu.others.chat],
    ['gateway', cpu.gateway],
    ['database server (FerretDB + PostgreSQL)', dbMeasured ? cpu.others.database : undefined],
    ['broker', cpu.broker],
    ['auth', cpu.others.auth],
    ['loadgen', cpu.loadgenReceivers + cpu.loadgenSource],
  ];
  const known = procs.filter((p): p is [string, number] => p[1] !== undefined && Number.isFinite(p[1]));
  const [name, cores] = known.reduce((a, b) => (b[1] > a[1] ? b : a));
  const msPer = (c: number) => (perSec > 0 ? (c / perSec) * 1000 : NaN);
  const ours = known.reduce((a, [, c]) => a + c, 0);
  const kept = perSec >= 0.95 * target && send.skipped === 0;
  const saturated = cores >= SATURATED_CORE ? `${name} saturated (${cores.toFixed(2)} cores)` : cpu.machine >= 1.8 ? `the machine saturated (${cpu.machine.toFixed(2)} of 2 cores busy)` : undefined;
  const [heavy, heavyCores] = known.filter(([n]) => n !== 'loadgen').reduce((a, b) => (b[1] > a[1] ? b : a));
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) : '—');
  return (
    `${kept ? '' : `chat did not keep the rate: ${perSec}/s answered 201 of ${target}/s (${send.skipped} shed at ${MAX_IN_FLIGHT} in flight, send p99 ${send.p99Ms} ms); `}` +
    `at ${perSec}/s × ${sockets} members (${Math.round(perSec * sockets).toLocaleString('en-US')} frames/s) ${saturated ?? `nothing saturated, the busiest process being ${name} (${cores.toFixed(2)} cores)`}. ` +
    `CPU per group message: ${known.map(([n, c]) => `${n} ${fmt(msPer(c))} ms`).join(', ')}. ` +
    `The most is the ${heavy}'s: a core's worth at about ${fmt(1000 / msPer(heavyCores))} group messages/s; all of these together fill 2 cores at about ${fmt(2000 / msPer(ours))}/s (linear from this rate). ` +
    `Whole machine ${cpu.machine.toFixed(2)} of 2 cores, ${Math.max(0, cpu.machine - ours).toFixed(2)} of them outside these processes${dbMeasured ? '' : ' (the database server is not a local process: not metered)'}`
  );
}

/** Chat's and the gateway's top self time over the window, from their --cpu-prof written on exit. */
function summarize(r: GroupResult, procs: Proc[], w: TimeWindow): ProfileSummary[] {
  const out: ProfileSummary[] = [];
  for (const p of procs) {
    const file = p.profileDir ? profilesIn(p.profileDir).pop() : undefined;
    if (!file) continue;
    const top = topSelfTime(readProfile(file), w, 6);
    out.push({ process: p.name, window: `scenario 9, the timed window at ${r.targetRate}/s (idle ${(top.idleShare * 100).toFixed(0)}%)`, cpuProfile: file, top: describeTop(top.entries, 6) });
  }
  return out;
}
