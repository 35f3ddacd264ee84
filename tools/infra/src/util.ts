// Small process/file/port helpers shared by the infra modules.
import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync, writeFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let quietDepth = 0;
/** Run fn with logging suppressed (used by ensureInfra({ quiet: true })). */
export async function withQuiet<T>(quiet: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  if (!quiet) return fn();
  quietDepth++;
  try {
    return await fn();
  } finally {
    quietDepth--;
  }
}
/**
 * Starts a server process that outlives us: detached, its output appended to `logFile`, not
 * holding our event loop open, as another user when uid/gid are given. Returns its pid.
 */
export function spawnDetached(
  command: string,
  args: string[],
  opts: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number },
): number {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', fd, fd], uid: opts.uid, gid: opts.gid });
    child.unref();
    if (!child.pid) throw new Error(`could not spawn ${command}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function log(msg: string): void {
  if (quietDepth === 0) process.stderr.write(`[infra] ${msg}\n`);
}
/** Always printed, even when quiet (slow operations the user must know about). */
export function notice(msg: string): void {
  process.stderr.write(`[infra] ${msg}\n`);
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not reaped) counts as dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    /* no procfs: trust kill(0) */
  }
  return true;
}

/** The command line of a process ('' when unknown) — used to make sure a recorded pid is still ours. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** pid is alive and (when procfs is available) its command line contains `marker`. */
export function pidIsOurs(pid: number | undefined, marker: string): boolean {
  if (!pid || !pidAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  return cmdline(pid).includes(marker);
}

/**
 * True when the process runs an executable that was replaced on disk since it started (Linux
 * shows its /proc/<pid>/exe as "… (deleted)"): a package upgrade or reinstall under a running
 * server. Such a server may no longer load its own libraries (measured: PostgreSQL 15 failed to
 * load plpgsql.so, "undefined symbol: heap_datum_update_type", after apt reinstalled it), so it is
 * restarted rather than reused.
 */
export function executableReplaced(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    return readlinkSync(`/proc/${pid}/exe`).endsWith(' (deleted)');
  } catch {
    return false; // not Linux, or not ours to read: nothing to go by
  }
}

export async function waitPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!pidAlive(pid)) return true;
    await sleep(50);
  }
  return !pidAlive(pid);
}

/** SIGTERM, wait, then SIGKILL. Returns once the process is gone. */
export async function terminate(pid: number, graceMs = 10_000): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitPidExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await waitPidExit(pid, 5_000);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a command to completion (never hangs longer than timeoutMs). */
export function run(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: -1, stdout: '', stderr: String(e), timedOut: false });
      return;
    }
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** First executable named `name` on PATH (plus extra dirs), or undefined. */
export function which(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const d of dirs) {
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now. */
export function randomFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The first free port among `preferred` (in order), else a random free one. */
export async function pickPort(preferred: Array<number | undefined>, avoid: number[] = []): Promise<number> {
  for (const p of preferred) {
    if (p && !avoid.includes(p) && (await isPortFree(p))) return p;
  }
  for (;;) {
    const p = await randomFreePort();
    if (!avoid.includes(p)) return p;
  }
}

/** Last `lines` lines of a file (reads at most the last 64 KB). */
export function tailFile(path: string, lines = 20): string {
  try {
    const size = statSync(path).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, len, size - len);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

export function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

/**
 * `apt-get update`, then `apt-get install -y --no-install-recommends <pkg>`, both logged to
 * `logFile`. Resolves to undefined on success, else to what failed (with the log's tail); the
 * caller words the error its own way.
 */
export async function aptInstall(apt: string, pkg: string, logFile: string): Promise<string | undefined> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const out: string[] = [];
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', pkg]]) {
    const r = await run(apt, args, { env, timeoutMs: 15 * 60_000 });
    out.push(`$ apt-get ${args.join(' ')}\n${r.stdout}${r.stderr}`);
    writeFileSync(logFile, out.join('\n'));
    if (r.code !== 0) return `\`apt-get ${args.join(' ')}\` failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}); see ${logFile}:\n${indent(tailFile(logFile, 12))}`;
  }
  return undefined;
}
