/**
 * Scenario 5 (and its `ws` half in scenario 6): authenticated idle sockets opened in steps up
 * to just under the gateway's per-process open-file limit, on a freshly started gateway. At
 * each step: the connect rate, and the gateway's RSS once the step settled. Memory per idle
 * socket is the least-squares slope of RSS over sockets (baseline included), so a one-off
 * allocation early on does not count against every socket.
 */
import type { LoadGen } from '../loadgen/pool.js';
import { ProgressLine } from '../progress.js';
import { round3, slope } from '../stats.js';
import { metricValue, type Proc } from '../stack.js';
import { rssMiB, WindowMeters, type CpuSnapshot } from './common.js';
import { roundCpu } from './delivery.js';

export interface CapacityStep {
  sockets: number;
  opened: number;
  failed: number;
  failures: Record<string, number>;
  connectPerSec: number;
  rssMiB: number;
  /** V8 heap in use, from the gateway's /metrics (prom-client default metrics), when it has them. */
  heapUsedMiB?: number;
  cpu: CpuSnapshot;
}

export interface CapacityResult {
  gateway: string;
  baselineRssMiB: number;
  baselineHeapMiB?: number;
  steps: CapacityStep[];
  maxSockets: number;
  /** Sockets over the seconds spent connecting them, all steps together. */
  connectPerSec: number;
  /** Slope of RSS over sockets, bytes per idle socket. */
  rssBytesPerSocket: number;
  /** Slope of V8 heap over sockets (the JavaScript share of the above). */
  heapBytesPerSocket?: number;
}

async function heapMiB(gw: Proc): Promise<number | undefined> {
  const v = await metricValue(gw, 'nodejs_heap_size_used_bytes');
  return v === undefined ? undefined : v / 2 ** 20;
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function capacityRamp(o: { lg: LoadGen; gateway: Proc; tokens: (i: number) => string; steps: number[]; label: string; deadline: number; settleMs?: number }): Promise<CapacityResult> {
  const { lg, gateway } = o;
  const wsUrl = gateway.url.replace(/^http/, 'ws') + '/';
  await settle(o.settleMs ?? 1_500);
  const baselineRssMiB = rssMiB(gateway.pid);
  const baselineHeapMiB = await heapMiB(gateway);
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
    steps.push(step);
    console.log(
      `  ${o.label} ${held} sockets (+${r.opened}, ${r.failed} failed${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}): ${step.connectPerSec} conn/s, RSS ${step.rssMiB} MiB, cpu gw ${step.cpu.gateway} loadgen ${step.cpu.loadgenReceivers}`,
    );
    if (r.failed > 0) break;
  }
  const points = [{ x: 0, y: baselineRssMiB * 2 ** 20 }, ...steps.map((s) => ({ x: s.sockets, y: s.rssMiB * 2 ** 20 }))];
  const heapPoints =
    baselineHeapMiB !== undefined && steps.every((s) => s.heapUsedMiB !== undefined)
      ? [{ x: 0, y: baselineHeapMiB * 2 ** 20 }, ...steps.map((s) => ({ x: s.sockets, y: s.heapUsedMiB! * 2 ** 20 }))]
      : undefined;
  await lg.closeAll();
  return {
    gateway: o.label,
    baselineRssMiB: round3(baselineRssMiB),
    baselineHeapMiB: baselineHeapMiB === undefined ? undefined : round3(baselineHeapMiB),
    steps,
    maxSockets: held,
    connectPerSec: round3(held / (connectMs / 1000)),
    rssBytesPerSocket: Math.round(slope(points)),
    heapBytesPerSocket: heapPoints ? Math.round(slope(heapPoints)) : undefined,
  };
}
