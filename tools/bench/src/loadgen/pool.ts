/**
 * The harness side of the load generator: spawns worker children (each with the soft fd limit
 * raised to the hard one), spreads sockets and source addresses over them, and merges what
 * they measure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withRaisedFdLimit } from '../fd-limit.js';
import { LatencyHistogram } from '../stats.js';
import type { Command, ConnectResult, GroupTally, InjectCommand, InjectResult, LayerCommand, LayerCounts, ProgressEvent, Reply, SendCommand, SendResult, WindowStats } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Sockets one worker holds at most: well under the 20,000 open-file limit of a process. */
export const SOCKETS_PER_WORKER = 5_000;

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

export class Worker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Latest progress counters this worker reported. */
  progress: ProgressEvent = { progress: true };
  readonly exited: Promise<void>;

  private constructor(
    readonly index: number,
    readonly proc: ChildProcess,
    /** Source addresses this worker binds its sockets to. */
    readonly localAddresses: string[],
  ) {
    proc.on('message', (m: Reply | ProgressEvent) => {
      if ('progress' in m) {
        this.progress = { ...this.progress, ...m };
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`loadgen worker ${index}: ${m.error}`));
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, sig) => {
        if (this.waiting.size > 0 || !this.exiting) console.error(`loadgen worker ${index} (pid ${proc.pid}) exited unexpectedly: code ${code}, signal ${sig}`);
        for (const w of this.waiting.values()) w.reject(new Error(`loadgen worker ${index} exited (${code ?? sig})`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static spawn(index: number, localAddresses: string[]): Worker {
    const [cmd, args] = withRaisedFdLimit(process.execPath, ['--conditions=development', '--import', 'tsx', WORKER]);
    const proc = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env });
    return new Worker(index, proc, localAddresses);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  call<T>(cmd: DistributiveOmit<Command, 'id'>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...cmd, id } as Command);
    });
  }

  private exiting = false;

  async exit(): Promise<void> {
    this.exiting = true;
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.call({ op: 'exit' }).catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}

/** 127.0.0.2 … 127.0.0.(1+n): one source address has about 28k ephemeral ports to one destination. */
export function sourceAddresses(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);
}

export interface MergedStats {
  frames: number;
  otherFrames: number;
  otherByType: Record<string, number>;
  latency: LatencyHistogram;
  open: number;
  closedByServer: number;
  closeCodes: Record<string, number>;
  /** CPU cores used by each worker over the window, and in total. */
  cpuCoresPerWorker: number[];
  cpuCores: number;
  wallSeconds: number;
  rssBytes: number;
}

export function mergeStats(all: WindowStats[]): MergedStats {
  const closeCodes: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v;
  const otherByType: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.otherByType ?? {})) otherByType[k] = (otherByType[k] ?? 0) + v;
  const perWorker = all.map((s) => (s.wallSeconds > 0 ? s.cpuSeconds / s.wallSeconds : 0));
  return {
    frames: all.reduce((a, s) => a + s.frames, 0),
    otherFrames: all.reduce((a, s) => a + s.otherFrames, 0),
    otherByType,
    latency: LatencyHistogram.from(all.map((s) => s.latency)),
    open: all.reduce((a, s) => a + s.open, 0),
    closedByServer: all.reduce((a, s) => a + s.closedByServer, 0),
    closeCodes,
    cpuCoresPerWorker: perWorker,
    cpuCores: perWorker.reduce((a, b) => a + b, 0),
    wallSeconds: Math.max(0, ...all.map((s) => s.wallSeconds)),
    rssBytes: all.reduce((a, s) => a + s.rssBytes, 0),
  };
}

/**
 * A set of socket-holding workers plus one extra worker for injecting or sending, so the
 * traffic source's CPU is measured apart from the receivers'.
 */
export class LoadGen {
  readonly receivers: Worker[] = [];
  /** Sockets each receiver holds (as of the last connect or close). */
  readonly held: number[] = [];
  private source?: Worker;
  private nextAddress = 2;

  /** Adds receiver workers until `sockets` fit at SOCKETS_PER_WORKER each (and there are at least `minWorkers`). */
  ensureReceivers(sockets: number, minWorkers = 1, addressesPerWorker = 4): void {
    const need = Math.max(minWorkers, Math.ceil(sockets / SOCKETS_PER_WORKER));
    while (this.receivers.length < need) {
      this.receivers.push(Worker.spawn(this.receivers.length, sourceAddresses(this.nextAddress, addressesPerWorker)));
      this.held.push(0);
      this.nextAddress += addressesPerWorker;
    }
  }

  sourceWorker(): Worker {
    this.source ??= Worker.spawn(99, []);
    return this.source;
  }

  /** Every loadgen pid, for CPU accounting. */
  pids(): number[] {
    return [...this.receivers, ...(this.source ? [this.source] : [])].map((w) => w.pid);
  }

  /**
   * Opens one socket per token on `url`, spread evenly over at least `opts.workers` receivers
   * (each filled to SOCKETS_PER_WORKER at most, after what it already holds), reporting
   * progress through `onProgress`.
   */
  async connect(url: string, tokens: string[], onProgress?: (opened: number, failed: number) => void, opts: { concurrency?: number; timeoutMs?: number; workers?: number } = {}): Promise<ConnectResult & { perWorker: number[] }> {
    const held = this.held;
    const total = tokens.length + held.reduce((a, b) => a + b, 0);
    this.ensureReceivers(total, opts.workers ?? 1);
    const plan: Array<{ w: Worker; tokens: string[] }> = [];
    let offset = 0;
    const n = Math.max(opts.workers ?? 1, Math.ceil(total / SOCKETS_PER_WORKER));
    for (const [i, w] of this.receivers.entries()) {
      if (offset >= tokens.length) break;
      const room = Math.max(0, SOCKETS_PER_WORKER - (held[i] ?? 0));
      const fair = Math.ceil((tokens.length - offset) / Math.max(1, Math.min(n, this.receivers.length) - i));
      const share = tokens.slice(offset, offset + Math.min(room, fair));
      offset += share.length;
      if (share.length) plan.push({ w, tokens: share });
    }
    if (offset < tokens.length) throw new Error(`loadgen: no room for ${tokens.length - offset} sockets`);
    for (const { w } of plan) w.progress = { progress: true, opened: 0, failed: 0 };
    const timer = onProgress
      ? setInterval(() => onProgress(plan.reduce((a, p) => a + (p.w.progress.opened ?? 0), 0), plan.reduce((a, p) => a + (p.w.progress.failed ?? 0), 0)), 250)
      : undefined;
    const t0 = performance.now();
    try {
      const results = await Promise.all(
        plan.map(({ w, tokens: t }) =>
          w.call<ConnectResult>({ op: 'connect', url, tokens: t, localAddresses: w.localAddresses, concurrency: opts.concurrency ?? 100, timeoutMs: opts.timeoutMs ?? 15_000 }),
        ),
      );
      for (const [i, p] of plan.entries()) held[this.receivers.indexOf(p.w)]! += results[i]!.opened;
      const failures: Record<string, number> = {};
      for (const r of results) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
      return {
        opened: results.reduce((a, r) => a + r.opened, 0),
        failed: results.reduce((a, r) => a + r.failed, 0),
        failures,
        elapsedMs: performance.now() - t0,
        perWorker: this.receivers.map((w) => {
          const i = plan.findIndex((p) => p.w === w);
          return i < 0 ? 0 : results[i]!.opened;
        }),
      };
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  async window(): Promise<void> {
    await Promise.all(this.receivers.map((w) => w.call({ op: 'window' })));
  }

  async stats(): Promise<MergedStats> {
    return mergeStats(await Promise.all(this.receivers.map((w) => w.call<WindowStats>({ op: 'stats' }))));
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.receivers.map((w) => w.call({ op: 'close' })));
    this.held.fill(0);
  }

  /** Closes every socket of one receiver (e.g. to move them to another gateway). */
  async closeWorker(i: number): Promise<void> {
    await this.receivers[i]!.call({ op: 'close' });
    this.held[i] = 0;
  }

  /** Total sockets held now. */
  get sockets(): number {
    return this.held.reduce((a, b) => a + b, 0);
  }

  async inject(cmd: Omit<InjectCommand, 'op'>): Promise<InjectResult> {
    return this.sourceWorker().call<InjectResult>({ op: 'inject', ...cmd });
  }

  async send(cmd: Omit<SendCommand, 'op'>): Promise<SendResult> {
    return this.sourceWorker().call<SendResult>({ op: 'send', ...cmd });
  }

  async e2e(tag: string | null): Promise<void> {
    await Promise.all(this.receivers.map((w) => w.call({ op: 'e2e', tag })));
  }

  async e2eDrain(): Promise<Array<[string, number]>> {
    const all = await Promise.all(this.receivers.map((w) => w.call<Array<[string, number]>>({ op: 'e2eDrain' })));
    return all.flat();
  }

  /** Group mode on every receiver: frames tagged `tag` are tallied per message and socket (null: off). */
  async group(tag: string | null): Promise<void> {
    await Promise.all(this.receivers.map((w) => w.call({ op: 'group', tag })));
  }

  /** Each receiver's tally (one per child: their sockets are disjoint, so counts add up across them). */
  async groupDrain(): Promise<GroupTally[]> {
    return Promise.all(this.receivers.map((w) => w.call<GroupTally>({ op: 'groupDrain' })));
  }

  /**
   * Scenario 10's layer traffic on every receiver: `typers[i]` are receiver i's typers; the
   * victims and the schedule are the same in every child, so a victim's sockets in different
   * children reconnect together (the user goes away and comes back, which is what presence sees).
   */
  async layerOn(cmd: Omit<LayerCommand, 'op' | 'on' | 'typers'> & { typers: Array<Array<[string, string]>> }): Promise<void> {
    await Promise.all(this.receivers.map((w, i) => w.call({ ...cmd, op: 'layer', on: true, typers: cmd.typers[i] ?? [] })));
  }

  /** Stops the layer traffic (after every pending reconnect reopened) and sums what it did. */
  async layerOff(): Promise<LayerCounts> {
    const all = await Promise.all(this.receivers.map((w) => w.call<LayerCounts>({ op: 'layer', on: false })));
    const reconnectFailures: Record<string, number> = {};
    for (const c of all) for (const [k, v] of Object.entries(c.reconnectFailures)) reconnectFailures[k] = (reconnectFailures[k] ?? 0) + v;
    return {
      typingSent: all.reduce((a, c) => a + c.typingSent, 0),
      typingSkipped: all.reduce((a, c) => a + c.typingSkipped, 0),
      reconnects: all.reduce((a, c) => a + c.reconnects, 0),
      reconnectFailures,
      seconds: Math.max(0, ...all.map((c) => c.seconds)),
    };
  }

  async exit(): Promise<void> {
    await Promise.all([...this.receivers, ...(this.source ? [this.source] : [])].map((w) => w.exit()));
    this.receivers.length = 0;
    this.held.length = 0;
    this.source = undefined;
  }
}
