/** Pieces shared by the socket scenarios: CPU meters over the processes involved, and waiting. */
import { round3 } from '../stats.js';
import { CpuMeter, machineBusySeconds, pidListeningOn, pidsByName, rssBytes } from '../proc.js';
import type { LoadGen, MergedStats } from '../loadgen/pool.js';
import { monoMicros, type TimeWindow } from '../profile.js';
import type { Proc } from '../stack.js';

/** A core counts as saturated at this share: its event loop has no slack left. */
export const SATURATED_CORE = 0.9;

export interface CpuSnapshot {
  /** Cores used over the window by each process of interest. */
  gateway: number;
  loadgenReceivers: number;
  loadgenReceiverMax: number;
  loadgenSource: number;
  broker: number;
  others: Record<string, number>;
  /** Cores busy on the whole machine over the window, whoever used them: shows interference. */
  machine: number;
}

let brokerPort = 5672;
/** Which broker to meter: the one listening on the AMQP URL's port (not other RabbitMQ nodes on the machine). */
export function setBrokerUrl(amqpUrl: string): void {
  brokerPort = Number(new URL(amqpUrl).port || 5672);
}

/** Our broker's pid: the process listening on the AMQP port, else every beam.smp. */
export function brokerPids(): number[] {
  const pid = pidListeningOn(brokerPort);
  return pid !== undefined ? [pid] : pidsByName('beam.smp');
}

/** Meters for a window: the gateway(s), the loadgen children, the broker and named extras. */
export class WindowMeters {
  private readonly gateway: CpuMeter;
  private readonly receivers: CpuMeter[];
  private readonly source: CpuMeter;
  private readonly broker: CpuMeter;
  private readonly extras: Array<[string, CpuMeter]>;
  private readonly fromUs = monoMicros();
  private readonly machine0 = machineBusySeconds();
  private readonly t0 = performance.now();

  constructor(gatewayPids: number[], lg: LoadGen, extras: Record<string, number[]> = {}) {
    this.gateway = new CpuMeter(() => gatewayPids).start();
    this.receivers = lg.receivers.map((w) => new CpuMeter(() => [w.pid]).start());
    const sourcePid = lg.pids().filter((p) => !lg.receivers.some((w) => w.pid === p));
    this.source = new CpuMeter(() => sourcePid).start();
    this.broker = new CpuMeter(brokerPids).start();
    this.extras = Object.entries(extras).map(([k, pids]) => [k, new CpuMeter(() => pids).start()]);
  }

  read(): { cpu: CpuSnapshot; window: TimeWindow } {
    const per = this.receivers.map((m) => m.read());
    return {
      cpu: {
        gateway: this.gateway.read(),
        loadgenReceivers: per.reduce((a, b) => a + b, 0),
        loadgenReceiverMax: Math.max(0, ...per),
        loadgenSource: this.source.read(),
        broker: this.broker.read(),
        others: Object.fromEntries(this.extras.map(([k, m]) => [k, m.read()])),
        machine: (machineBusySeconds() - this.machine0) / ((performance.now() - this.t0) / 1000),
      },
      window: { fromUs: this.fromUs, toUs: monoMicros() },
    };
  }
}

/** Loadgen-limited: one of its processes saturated a core, or together they took a whole core of two. */
export function loadgenLimited(cpu: CpuSnapshot): boolean {
  return cpu.loadgenReceiverMax >= SATURATED_CORE || cpu.loadgenSource >= SATURATED_CORE || cpu.loadgenReceivers + cpu.loadgenSource >= 1.0;
}

export function rssMiB(pid: number): number {
  return (rssBytes(pid) ?? NaN) / 2 ** 20;
}

/** Polls loadgen stats until `done` says so or the timeout passes; returns the last stats. */
export async function pollStats(lg: LoadGen, done: (s: MergedStats) => boolean, timeoutMs: number, everyMs = 100): Promise<MergedStats> {
  const deadline = performance.now() + timeoutMs;
  let s = await lg.stats();
  while (!done(s) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    s = await lg.stats();
  }
  return s;
}

/** Waits until no new frame arrived for `quietMs` (a backlog drained), at most `timeoutMs`. */
export async function waitQuiet(lg: LoadGen, quietMs = 1_000, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = (await lg.stats()).frames;
  let lastChange = performance.now();
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const f = (await lg.stats()).frames;
    if (f !== last) {
      last = f;
      lastChange = performance.now();
    } else if (performance.now() - lastChange >= quietMs) return;
  }
}

export function gatewayPids(gws: Proc[]): number[] {
  return gws.map((g) => g.pid);
}

/** Waits until the given processes used less than `cores` over a second; false on timeout. */
export async function waitCpuQuiet(pids: number[], cores: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const m = new CpuMeter(() => pids).start();
    await new Promise((r) => setTimeout(r, 1_000));
    if (m.read() < cores) return true;
  }
  return false;
}

export function roundCpu(c: CpuSnapshot): CpuSnapshot {
  return {
    gateway: round3(c.gateway),
    loadgenReceivers: round3(c.loadgenReceivers),
    loadgenReceiverMax: round3(c.loadgenReceiverMax),
    loadgenSource: round3(c.loadgenSource),
    broker: round3(c.broker),
    others: Object.fromEntries(Object.entries(c.others).map(([k, v]) => [k, round3(v)])),
    machine: round3(c.machine),
  };
}
