/**
 * FerretDB's own CPU profile over a window (Go pprof, served on loopback by the local server
 * @chat/infra starts), summarized as the share of its samples per command handler. This is the
 * database half of a missed local-database goal's cause: chat's profile says what chat did,
 * this says what the database did for it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FerretProfile {
  file: string;
  seconds: number;
  /** CPU seconds the profile sampled. */
  sampledSeconds: number;
  /** Cumulative share of the samples per FerretDB command handler (MsgInsert, MsgUpdate, MsgFind, …), largest first. */
  handlers: Array<{ name: string; percent: number }>;
  /** Share in system calls (mostly the network to the client and to PostgreSQL) and in the garbage collector. */
  syscallsPercent: number;
  gcPercent: number;
}

function goBinary(): string | undefined {
  for (const candidate of [process.env.GO, '/usr/local/go/bin/go', '/usr/lib/go/bin/go']) if (candidate && existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
}

/** Reads `go tool pprof -top -cum` output into the summary (pure: unit-tested). */
export function summarizePprofTop(text: string): Omit<FerretProfile, 'file' | 'seconds'> {
  const sampled = /Total samples = ([\d.]+)(ms|s)/.exec(text);
  const sampledSeconds = sampled ? Number(sampled[1]) / (sampled[2] === 'ms' ? 1000 : 1) : 0;
  const handlers: FerretProfile['handlers'] = [];
  let syscallsPercent = 0;
  let gcPercent = 0;
  for (const line of text.split('\n')) {
    // flat flat% sum% cum cum% name
    const m = /^\s*[\d.]+(?:m?s)?\s+([\d.]+)%\s+[\d.]+%\s+[\d.]+(?:m?s)?\s+([\d.]+)%\s+(.+)$/.exec(line);
    if (!m) continue;
    const [, flat, cum, name] = m;
    const handler = /handler\.\(\*Handler\)\.(Msg\w+)$/.exec(name!);
    if (handler) handlers.push({ name: handler[1]!, percent: Number(cum) });
    if (/\bSyscall6$/.test(name!)) syscallsPercent += Number(flat);
    if (name === 'runtime.gcBgMarkWorker') gcPercent = Number(cum);
  }
  handlers.sort((a, b) => b.percent - a.percent);
  return { sampledSeconds, handlers, syscallsPercent, gcPercent };
}

/** Profiles FerretDB for `seconds`; undefined (with the reason) when there is no profile to take or read. */
export async function profileFerretDb(pprofUrl: string | undefined, seconds: number, dir: string, label: string): Promise<FerretProfile | { unavailable: string }> {
  if (!pprofUrl) return { unavailable: 'the database is not a local FerretDB started by @chat/infra' };
  const go = goBinary();
  if (!go) return { unavailable: 'no Go toolchain to read the profile' };
  try {
    const res = await fetch(`${pprofUrl}/debug/pprof/profile?seconds=${Math.max(1, Math.round(seconds))}`);
    if (!res.ok) return { unavailable: `FerretDB's pprof answered ${res.status}` };
    const file = join(dir, `ferretdb-${label}.pprof`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const top = spawnSync(go, ['tool', 'pprof', '-top', '-cum', '-nodecount=400', file], { encoding: 'utf8', timeout: 60_000 });
    if (top.status !== 0) return { unavailable: `go tool pprof failed: ${top.stderr.trim().split('\n').at(-1)}` };
    return { file, seconds, ...summarizePprofTop(top.stdout) };
  } catch (err) {
    return { unavailable: `FerretDB's pprof did not answer: ${(err as Error).message}` };
  }
}

/** One sentence for a goal's cause. */
export function describeFerretProfile(p: FerretProfile): string {
  const handlers = p.handlers.slice(0, 4).map((h) => `${h.name} ${h.percent.toFixed(0)}%`).join(', ');
  return `FerretDB's own profile over that step (${p.file}): by command, ${handlers || 'no handler sampled'} of its samples; ${p.syscallsPercent.toFixed(0)}% in system calls (the network to the client and to PostgreSQL), ${p.gcPercent.toFixed(0)}% in Go's garbage collector.`;
}
