/**
 * What the benchmark reads about processes and the machine from /proc: CPU time and RSS of a
 * pid (ours or a server's), the broker's and the database's pids, and the machine description
 * that goes into every result file.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime+stime of a process in seconds, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes, or undefined when the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pids whose executable name (comm) is `name`, optionally with a command line containing `argContains`. */
export function pidsByName(name: string, argContains?: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
      if (argContains && !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(argContains)) continue;
      out.push(Number(entry));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** CPU seconds the whole machine spent busy (all cores, every process), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * The pid of the process listening on a local TCP port (e.g. our broker or database), found
 * through the socket inode in /proc/net/tcp; undefined when none of our processes holds it.
 */
export function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "IP:PORT" in hex; state 0A is LISTEN; field 9 is the inode.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(entry);
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return undefined;
}

/**
 * CPU use of a set of processes over an interval: start() snapshots each pid's CPU time, read()
 * gives the cores used since by those same pids (a pid that exited meanwhile drops out rather
 * than making the figure negative).
 */
export class CpuMeter {
  private t0 = 0;
  private c0 = new Map<number, number>();
  constructor(private readonly pids: () => number[]) {}

  start(): this {
    this.t0 = performance.now();
    this.c0 = new Map(this.pids().map((pid) => [pid, cpuSeconds(pid) ?? 0]));
    return this;
  }

  /** CPU seconds used since start(). */
  seconds(): number {
    let used = 0;
    for (const [pid, c0] of this.c0) {
      const now = cpuSeconds(pid);
      if (now !== undefined) used += now - c0;
    }
    return used;
  }

  /** Average cores busy since start() (1.0 = one core fully used). */
  read(): number {
    const wall = (performance.now() - this.t0) / 1000;
    return wall > 0 ? this.seconds() / wall : NaN;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  fdLimit: { soft: number; hard: number; note: string };
}

export function machineInfo(fdLimit: MachineInfo['fdLimit']): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    fdLimit,
  };
}

/** One process as /proc/<pid>/stat tells it: parent, name, own CPU and its reaped children's. */
export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime+stime, seconds. */
  cpu: number;
  /** cutime+cstime, seconds: CPU of children it has waited for (PostgreSQL's backends, once they exit). */
  childCpu: number;
}

/** Parses one /proc/<pid>/stat line; undefined when it is not one. */
export function parseStat(line: string, ticks = CLOCK_TICKS): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // Fields after the command name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
  const f = line.slice(close + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  if (!Number.isFinite(pid) || f.length < 15) return undefined;
  return { pid, ppid: n(1), comm: line.slice(open + 1, close), cpu: (n(11) + n(12)) / ticks, childCpu: (n(13) + n(14)) / ticks };
}

/** Every process on the machine, by pid. */
export function processTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const st = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (st) table.set(st.pid, st);
    } catch {
      /* exited while we looked */
    }
  }
  return table;
}

/** `roots` and every descendant of them (PostgreSQL's postmaster forks a backend per connection). */
export function processTree(roots: number[], table: Map<number, ProcStat>): number[] {
  const children = new Map<number, number[]>();
  for (const p of table.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const seen = new Set<number>();
  const stack = roots.filter((pid) => table.has(pid));
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * CPU seconds of the trees under `roots`, own plus reaped children's: a backend that exits between
 * two readings moves its CPU into its parent's cutime/cstime, so the difference of two readings
 * counts it once, whether it lived through the window or not.
 */
export function treeCpuSeconds(roots: number[], table: Map<number, ProcStat>): { total: number; byComm: Record<string, number> } {
  const byComm: Record<string, number> = {};
  let total = 0;
  for (const pid of processTree(roots, table)) {
    const p = table.get(pid)!;
    total += p.cpu + p.childCpu;
    byComm[p.comm] = (byComm[p.comm] ?? 0) + p.cpu + p.childCpu;
  }
  return { total, byComm };
}

/**
 * The kernel's TCP extension counters (`/proc/net/netstat`, the `TcpExt:` header and value lines)
 * by name. Machine-wide and cumulative: a difference around a window says what happened on the
 * whole machine meanwhile (ListenOverflows: connections dropped because a listener's accept
 * queue was full, which the client sees as a SYN retried after 1 s, 3 s, 7 s…).
 */
export function parseTcpExt(text: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  if (lines.length < 2) return {};
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? NaN]));
}

/** The TcpExt counters now, or undefined where /proc/net/netstat cannot be read. */
export function tcpExtCounters(): Record<string, number> | undefined {
  try {
    return parseTcpExt(readFileSync('/proc/net/netstat', 'utf8'));
  } catch {
    return undefined;
  }
}
