/**
 * How much CPU each part of the system used while a fault lasted, so a test can say which
 * process saturated: CPU time of process trees read from /proc (Linux), sampled on a period.
 * A tree is a process and all its descendants (PostgreSQL's backends are the postmaster's
 * children). Each sample keeps every member's own CPU time, and only what a process used between
 * two samples that both saw it counts: a child that exits, or a service killed and replaced by
 * another pid, neither subtracts nor adds what it had used before.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in clock ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

interface CpuSample {
  at: number;
  /** CPU seconds of each member process, by pid. */
  members: Map<number, number>;
}

/** CPU seconds (user + system) of each process, by pid, and each one's parent. */
function readProcesses(): Map<number, { ppid: number; seconds: number }> {
  const out = new Map<number, { ppid: number; seconds: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), { ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** The processes of the trees rooted at `pids` (or only `pids`), with their own CPU seconds. */
function membersOf(all: Map<number, { ppid: number; seconds: number }>, pids: number[], tree: boolean): Map<number, number> {
  const roots = new Set(pids);
  const out = new Map<number, number>();
  for (const [pid, p] of all) {
    if (!tree) {
      if (roots.has(pid)) out.set(pid, p.seconds);
      continue;
    }
    let cur: number | undefined = pid;
    for (let depth = 0; cur !== undefined && cur > 1 && depth < 64; depth++) {
      if (roots.has(cur)) {
        out.set(pid, p.seconds);
        break;
      }
      cur = all.get(cur)?.ppid;
    }
  }
  return out;
}

export class CpuSampler {
  private readonly series = new Map<string, { pids: () => number[]; tree: boolean; samples: CpuSample[] }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  /** `tree`: the processes and their descendants (false for a process whose children are counted apart, such as a test that spawned the services). */
  add(name: string, pids: () => number[], tree = true): void {
    this.series.set(name, { pids, tree, samples: [] });
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** Cores used on average in [from, to]: CPU seconds between samples of the same pids, over the wall time. */
  cores(name: string, from: number, to: number): number | undefined {
    const samples = this.series.get(name)?.samples.filter((s) => s.at >= from - this.periodMs && s.at <= to + this.periodMs) ?? [];
    let cpu = 0;
    let wall = 0;
    for (let i = 1; i < samples.length; i++) {
      const [a, b] = [samples[i - 1]!, samples[i]!];
      wall += b.at - a.at;
      for (const [pid, seconds] of b.members) {
        const before = a.members.get(pid);
        if (before !== undefined) cpu += seconds - before;
      }
    }
    return wall > 0 ? cpu / (wall / 1000) : undefined;
  }

  names(): string[] {
    return [...this.series.keys()];
  }

  private sample(): void {
    const all = readProcesses();
    const at = Date.now();
    for (const s of this.series.values()) s.samples.push({ at, members: membersOf(all, s.pids(), s.tree) });
  }
}
