/**
 * Memory per idle socket (issue 15), apart from `make bench`: the real gateway (or, with
 * `raw`, a bare uWS server: the floor) started on its own, idle authenticated sockets opened in
 * steps from load-generator children (at most 5,000 per child: the open-file limit is per
 * process), and at each step the RSS and V8 heap in use once settled; per socket = the
 * least-squares slope over the steps, baseline included, as scenario 5 computes it. Optionally two
 * heap snapshots (at MEM_SNAPSHOT_AT and twice that many sockets) diffed by object kind, so each
 * kind's cost per socket shows.
 *
 *   CHAT_INFRA_DIR=/work/main/.infra node --conditions=development --import tsx \
 *     tools/bench/src/socket-memory/run.ts [ours|raw]
 *
 * Environment: MEM_STEPS (default 1000,2500,5000,10000,15000,19000); MEM_SOCKETS_PER_USER
 * (default 1: every socket its own user; scenario 5 has about 4, its 5,000 users' tokens reused);
 * MEM_SNAPSHOT_AT (e.g. 5000; the second snapshot is taken at the step twice that; ours only);
 * MEM_SETTLE_MS (default 2000); MEM_ENV (extra gateway env, JSON); MEM_ISOLATED=1 (default):
 * the gateway gets a broker address where nothing listens, so it consumes no presence signals from
 * other processes on the shared broker (a bench running beside this one would otherwise fill its
 * presence table with users of its own, and the heap with them).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { freePort, startService, startStack, waitFor, type Stack } from '@chat/testkit';
import { LoadGen } from '../loadgen/pool.js';
import { rssMiB } from '../scenarios/common.js';
import { round3, slope } from '../stats.js';
import { createTokenMinter, metricValue, JWT_AUDIENCE, JWT_ISSUER, type BenchUser, type Proc } from '../stack.js';
import { connectInspector } from '../inspector.js';
import { diffSnapshots, summarizeSnapshot, type KindSummary } from './snapshot.js';

const mode = process.argv[2] === 'raw' ? 'raw' : 'ours';
const steps = (process.env.MEM_STEPS ?? '1000,2500,5000,10000,15000,19000').split(',').map(Number);
const perUser = Number(process.env.MEM_SOCKETS_PER_USER ?? 1);
const snapshotAt = process.env.MEM_SNAPSHOT_AT ? Number(process.env.MEM_SNAPSHOT_AT) : undefined;
const settleMs = Number(process.env.MEM_SETTLE_MS ?? 2000);
const extraEnv = JSON.parse(process.env.MEM_ENV ?? '{}') as Record<string, string>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startRaw(inspectPort: number): Promise<Proc> {
  const port = await freePort();
  const file = fileURLToPath(new URL('./raw-uws-server.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', `--inspect=127.0.0.1:${inspectPort}`, file], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('raw uWS', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 20_000, 100);
  const exited = new Promise((r) => proc.once('exit', r));
  return { name: 'raw-uws', url, port, metricsUrl: url, pid: proc.pid!, output: () => '', stop: async () => (proc.kill('SIGTERM'), await exited) };
}

/** A throwaway ES256 key for the raw server (it checks nothing; the load generator only reads `sub`). */
function rawMinter(): (u: BenchUser) => Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Math.floor(Date.now() / 1000);
  return (u) =>
    new SignJWT({ username: u.username }).setProtectedHeader({ alg: 'ES256', kid: 'raw', typ: 'JWT' }).setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).setSubject(u.id).setIssuedAt(now).setExpirationTime(now + 7200).sign(privateKey);
}

async function snapshot(gw: Proc, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(gw.pid, 'SIGUSR2');
  let file: string | undefined;
  let lastSize = -1;
  await waitFor('heap snapshot', async () => {
    file ??= readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (!file) return false;
    const size = statSync(join(dir, file)).size;
    const stable = size > 0 && size === lastSize;
    lastSize = size;
    return stable;
  }, 120_000, 1_000);
  return join(dir, file!);
}

async function main(): Promise<void> {
  let stack: Stack | undefined;
  let gw: Proc;
  let mint: (u: BenchUser) => Promise<string>;
  const snapDir = mkdtempSync(join(tmpdir(), 'chat-mem-'));
  const inspectPort = await freePort();
  if (mode === 'raw') {
    gw = await startRaw(inspectPort);
    mint = rawMinter();
  } else {
    stack = await startStack({ services: [], env: { LOG_LEVEL: 'warn', NODE_ENV: 'production' }, gatewayDefaults: {} });
    const auth = await stack.start('auth');
    const isolated = process.env.MEM_ISOLATED !== '0';
    // MEM_SOCKETS_PER_USER may exceed the default per-user cap (32): that cap is lifted, so every
    // asked-for socket opens. The per-address cap stays at its default (the load generator spreads
    // each child's 5,000 sockets over 4 source addresses), so its cost is in the measurement.
    const env = { ...stack.envOf('gateway'), POD_NAME: `mem-${randomBytes(3).toString('hex')}`, MAX_SOCKETS_PER_USER: '0', ...(isolated ? { AMQP_URL: 'amqp://guest:guest@127.0.0.1:9' } : {}), ...extraEnv };
    const svc = await startService('gateway', env, {
      // Without a broker it never becomes ready; it serves sockets all the same.
      readyPath: isolated ? '/healthz' : '/readyz',
      nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`, `--inspect=127.0.0.1:${inspectPort}`],
      timeoutMs: 60_000,
    });
    gw = { name: 'gateway', url: svc.url, port: svc.port, metricsUrl: svc.metricsUrl, pid: svc.proc.pid!, output: () => svc.output(), stop: () => svc.stop('SIGTERM', 20_000) };
    mint = await createTokenMinter(auth.url, stack.env.JWT_PRIVATE_KEY!);
  }
  const top = steps[steps.length - 1]!;
  const users = Math.ceil(top / perUser);
  // Ids shaped like Mongo's (24 hex), usernames like the bench's: nobody is registered, the
  // gateway only verifies the token on connect.
  const prefix = `m${randomBytes(2).toString('hex')}_`;
  const tokens = await Promise.all(Array.from({ length: users }, (_, i) => mint({ id: randomBytes(12).toString('hex'), username: `${prefix}${i}` })));
  // Socket k belongs to user k mod users: with several sockets per user, each step adds sockets of every user evenly.
  const tokenAt = (k: number) => tokens[k % users]!;
  const lg = new LoadGen();
  const wsUrl = gw.url.replace(/^http/, 'ws') + '/';
  const inspector = await connectInspector(inspectPort);
  const heap = async () => ((await metricValue(gw, 'nodejs_heap_size_used_bytes')) ?? NaN) / 2 ** 20;
  /** As scenario 5 reads it (RSS and heap as they are), then again after a full collection. */
  const measure = async (sockets: number) => {
    const p = { sockets, rssMiB: round3(rssMiB(gw.pid)), heapMiB: round3(await heap()), gcRssMiB: NaN, gcHeapMiB: NaN };
    await inspector.gc();
    await sleep(500);
    const m = await inspector.memoryUsage();
    p.gcRssMiB = round3(rssMiB(gw.pid));
    p.gcHeapMiB = round3(m.heapUsed / 2 ** 20);
    return p;
  };
  const points: Array<{ sockets: number; rssMiB: number; heapMiB: number; gcRssMiB: number; gcHeapMiB: number }> = [];
  const snaps: Array<{ sockets: number; kinds: Map<string, KindSummary> }> = [];
  try {
    await sleep(settleMs);
    points.push(await measure(0));
    console.log(`${mode} baseline: RSS ${points[0]!.rssMiB} MiB, heap used ${points[0]!.heapMiB} MiB; after gc ${points[0]!.gcRssMiB} / ${points[0]!.gcHeapMiB} MiB`);
    let held = 0;
    for (const target of steps) {
      const r = await lg.connect(wsUrl, Array.from({ length: target - held }, (_, k) => tokenAt(held + k)));
      held += r.opened;
      if (r.failed) console.log(`  ${r.failed} failed: ${JSON.stringify(r.failures)}`);
      await sleep(settleMs);
      const p = await measure(held);
      points.push(p);
      console.log(`${mode} ${held} sockets: RSS ${p.rssMiB} MiB, heap used ${p.heapMiB} MiB; after gc ${p.gcRssMiB} / ${p.gcHeapMiB} MiB`);
      // A snapshot costs the process memory of its own (RSS never shrinks back): the RSS slope of a run with snapshots is not the figure.
      if (snapshotAt !== undefined && (held === snapshotAt || held === 2 * snapshotAt) && mode === 'ours') {
        const file = await snapshot(gw, snapDir);
        snaps.push({ sockets: held, kinds: summarizeSnapshot(file) });
        console.log(`  snapshot ${file}`);
        await sleep(settleMs);
      }
      if (r.failed) break;
    }
  } finally {
    inspector.close();
    await lg.closeAll().catch(() => undefined);
    await lg.exit().catch(() => undefined);
    await gw.stop();
    await stack?.stop();
  }
  const rss = slope(points.map((p) => ({ x: p.sockets, y: p.rssMiB * 2 ** 20 })));
  const hp = slope(points.map((p) => ({ x: p.sockets, y: p.heapMiB * 2 ** 20 })));
  const steps1 = points.slice(1);
  const noBase = (f: (p: (typeof points)[0]) => number) => Math.round(slope(steps1.map((p) => ({ x: p.sockets, y: f(p) * 2 ** 20 }))));
  console.log(`RESULT without the baseline point (steps only): RSS ${noBase((p) => p.rssMiB)} B/socket, heap ${noBase((p) => p.heapMiB)}; after gc RSS ${noBase((p) => p.gcRssMiB)}, heap ${noBase((p) => p.gcHeapMiB)}`);
  const gcRss = slope(points.map((p) => ({ x: p.sockets, y: p.gcRssMiB * 2 ** 20 })));
  const gcHp = slope(points.map((p) => ({ x: p.sockets, y: p.gcHeapMiB * 2 ** 20 })));
  console.log(`RESULT ${mode} ${perUser} socket(s)/user, ${points.length - 1} steps to ${points[points.length - 1]!.sockets}: as scenario 5 reads it RSS ${Math.round(rss)} B/socket, V8 heap used ${Math.round(hp)} B/socket; after a full gc at each step RSS ${Math.round(gcRss)} B/socket, heap ${Math.round(gcHp)} B/socket`);
  if (snaps.length === 2) {
    const [a, b] = snaps as [(typeof snaps)[0], (typeof snaps)[0]];
    console.log(`heap snapshot diff ${a.sockets} → ${b.sockets} sockets, bytes per socket by kind:`);
    for (const line of diffSnapshots(a.kinds, b.kinds, b.sockets - a.sockets)) console.log(`  ${line}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
