/**
 * Scenario 5 (and its `ws` half in scenario 6): authenticated idle sockets opened in steps up
 * to just under the gateway's per-process open-file limit, on a freshly started gateway. At
 * each step: the connect rate, and the gateway's RSS once the step settled. Memory per idle
 * socket is the least-squares slope of RSS over sockets (baseline included), so a one-off
 * allocation early on does not count against every socket.
 *
 * Two readings per step. "As left" is RSS as the connects left it: it includes whatever garbage
 * the connect burst made that V8 has not collected yet, so it depends on when the last scavenge
 * or mark-compact happened to run, not on what a socket holds (in the socket-memory harness the
 * same gateway read 1.9 KB as left and 0.5 KB collected). "Collected" is read after a full
 * collection forced through the gateway's inspector (Proc.inspectPort): what an idle socket keeps
 * alive once the process is idle, which is the state of a pod holding idle sockets. The goal is
 * judged on the collected slope when the gateway has an inspector; the as-left readings stay in
 * the step table, but their slope is then no figure of its own, since each step's collection
 * resets what the next step's reading counts.
 */
import { connectInspector, type Inspector } from '../inspector.js';
import type { LoadGen } from '../loadgen/pool.js';
import { ProgressLine } from '../progress.js';
import { round3, slope } from '../stats.js';
import { metricValue, type Proc } from '../stack.js';
import { roundCpu, rssMiB, WindowMeters, type CpuSnapshot } from './common.js';

export interface CapacityStep {
  sockets: number;
  opened: number;
  failed: number;
  failures: Record<string, number>;
  connectPerSec: number;
  rssMiB: number;
  /** V8 heap in use, from the gateway's /metrics (prom-client default metrics), when it has them. */
  heapUsedMiB?: number;
  /** RSS and V8 heap in use after a forced full collection, when the gateway has an inspector. */
  collected?: MemoryReading;
  cpu: CpuSnapshot;
}

export interface MemoryReading {
  rssMiB: number;
  heapUsedMiB: number;
}

export interface CapacityResult {
  gateway: string;
  baselineRssMiB: number;
  baselineHeapMiB?: number;
  baselineCollected?: MemoryReading;
  steps: CapacityStep[];
  maxSockets: number;
  /** Sockets over the seconds spent connecting them, all steps together. */
  connectPerSec: number;
  /** Slope of RSS over sockets, bytes per idle socket. */
  rssBytesPerSocket: number;
  /** Slope of V8 heap over sockets (the JavaScript share of the above). */
  heapBytesPerSocket?: number;
  /** The same two slopes over the readings after a forced full collection. */
  collectedRssBytesPerSocket?: number;
  collectedHeapBytesPerSocket?: number;
}

async function heapMiB(gw: Proc): Promise<number | undefined> {
  const v = await metricValue(gw, 'nodejs_heap_size_used_bytes');
  return v === undefined ? undefined : v / 2 ** 20;
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** RSS and heap after a full collection; half a second for the freed pages to leave RSS. */
async function collectedReading(inspector: Inspector, gw: Proc): Promise<MemoryReading> {
  await inspector.gc();
  await settle(500);
  const m = await inspector.memoryUsage();
  return { rssMiB: round3(rssMiB(gw.pid)), heapUsedMiB: round3(m.heapUsed / 2 ** 20) };
}

/** Least-squares slope in bytes per socket of `y` (MiB) over the baseline and the steps. */
function perSocket(baseline: number, steps: Array<{ sockets: number; y: number }>): number {
  return Math.round(slope([{ x: 0, y: baseline * 2 ** 20 }, ...steps.map((s) => ({ x: s.sockets, y: s.y * 2 ** 20 }))]));
}

interface CapacityOpts {
  lg: LoadGen;
  gateway: Proc;
  tokens: (i: number) => string;
  steps: number[];
  label: string;
  deadline: number;
  settleMs?: number;
}

export async function capacityRamp(o: CapacityOpts): Promise<CapacityResult> {
  await settle(o.settleMs ?? 1_500);
  const inspector = o.gateway.inspectPort === undefined ? undefined : await connectInspector(o.gateway.inspectPort);
  try {
    return await ramp(o, inspector);
  } finally {
    inspector?.close();
  }
}

async function ramp(o: CapacityOpts, inspector: Inspector | undefined): Promise<CapacityResult> {
  const { lg, gateway } = o;
  const wsUrl = gateway.url.replace(/^http/, 'ws') + '/';
  const baselineRssMiB = rssMiB(gateway.pid);
  const baselineHeapMiB = await heapMiB(gateway);
  const baselineCollected = inspector ? await collectedReading(inspector, gateway) : undefined;
  const steps: CapacityStep[] = [];
  let held = 0;
  let connectMs = 0;
  for (const target of o.steps) {
    if (performance.now() + 3_000 > o.deadline) break;
    const tokens = Array.from({ length: target - held }, (_, k) => o.tokens(held + k));
    const progress = new ProgressLine(`${o.label} capacity → ${target}`);
    lg.ensureReceivers(target); // before the meters, so new children are metered too
    const meters = new WindowMeters([gateway.pid], lg);
    const t0 = performance.now();
    const r = await lg.connect(wsUrl, tokens, (opened) => {
      progress.update({ rate: opened / ((performance.now() - t0) / 1000), connections: held + opened });
    });
    const { cpu } = meters.read();
    progress.done();
    connectMs += r.elapsedMs;
    held += r.opened;
    await settle(o.settleMs ?? 1_500);
    const step: CapacityStep = {
      sockets: held,
      opened: r.opened,
      failed: r.failed,
      failures: r.failures,
      connectPerSec: round3(r.opened / (r.elapsedMs / 1000)),
      rssMiB: round3(rssMiB(gateway.pid)),
      heapUsedMiB: await heapMiB(gateway).then((v) => (v === undefined ? undefined : round3(v))),
      cpu: roundCpu(cpu),
    };
    // After the reading as left: the forced collection would otherwise change it.
    if (inspector) step.collected = await collectedReading(inspector, gateway);
    steps.push(step);
    console.log(
      `  ${o.label} ${held} sockets (+${r.opened}, ${r.failed} failed${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}): ${step.connectPerSec} conn/s, RSS ${step.rssMiB} MiB${step.collected ? ` (${step.collected.rssMiB} MiB collected)` : ''}, cpu gw ${step.cpu.gateway} loadgen ${step.cpu.loadgenReceivers}`,
    );
    if (r.failed > 0) break;
  }
  const heapKnown = baselineHeapMiB !== undefined && steps.every((s) => s.heapUsedMiB !== undefined);
  const collected = baselineCollected && steps.every((s) => s.collected) ? steps.map((s) => ({ sockets: s.sockets, ...s.collected! })) : undefined;
  await lg.closeAll();
  return {
    gateway: o.label,
    baselineRssMiB: round3(baselineRssMiB),
    baselineHeapMiB: baselineHeapMiB === undefined ? undefined : round3(baselineHeapMiB),
    baselineCollected,
    steps,
    maxSockets: held,
    connectPerSec: round3(held / (connectMs / 1000)),
    rssBytesPerSocket: perSocket(baselineRssMiB, steps.map((s) => ({ sockets: s.sockets, y: s.rssMiB }))),
    heapBytesPerSocket: heapKnown ? perSocket(baselineHeapMiB, steps.map((s) => ({ sockets: s.sockets, y: s.heapUsedMiB! }))) : undefined,
    collectedRssBytesPerSocket: collected ? perSocket(baselineCollected!.rssMiB, collected.map((s) => ({ sockets: s.sockets, y: s.rssMiB }))) : undefined,
    collectedHeapBytesPerSocket: collected ? perSocket(baselineCollected!.heapUsedMiB, collected.map((s) => ({ sockets: s.sockets, y: s.heapUsedMiB }))) : undefined,
  };
}
