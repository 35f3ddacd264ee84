/**
 * Open-file limits. Node cannot call setrlimit, so the harness raises its soft limit to the
 * hard one by re-executing itself through `sh -c 'ulimit -Sn …; exec …'`, and every child it
 * spawns inherits that. The hard limit can only be raised by a privileged process outside a
 * restricted container; we try, and record the answer instead of assuming it.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface FdLimits {
  soft: number;
  hard: number;
  note: string;
}

function shNumber(script: string): number {
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
}

export function readFdLimits(): { soft: number; hard: number } {
  return { soft: shNumber('ulimit -Sn'), hard: shNumber('ulimit -Hn') };
}

/** Whether this process could raise its hard limit (it tries in a throwaway shell). */
export function hardLimitRaisable(hard: number): boolean {
  if (hard === Number.MAX_SAFE_INTEGER) return true;
  return spawnSync('sh', ['-c', `ulimit -Hn ${hard + 1}`], { stdio: 'ignore' }).status === 0;
}

/** argv that runs `cmd args…` with the soft open-file limit raised to the hard limit. */
export function withRaisedFdLimit(cmd: string, args: string[]): [string, string[]] {
  return ['sh', ['-c', 'ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', cmd, ...args]];
}

export function describeFdLimits(before: { soft: number; hard: number }): FdLimits {
  const now = readFdLimits();
  const parts = [`soft ${before.soft} → ${now.soft}`];
  parts.push(hardLimitRaisable(now.hard) ? `hard ${now.hard} (raisable by this user, left as is)` : `hard ${now.hard} cannot be raised here (ulimit -Hn: operation not permitted)`);
  parts.push('so no process holds more sockets than that: the load generator spreads its sockets over several child processes');
  return { soft: now.soft, hard: now.hard, note: parts.join('; ') };
}
