/**
 * Entry point of `make bench` (`node --import tsx tools/bench/src/run.ts`).
 *
 * It re-executes itself once, through `sh -c 'ulimit -Sn <hard>; exec node …'`, for two
 * reasons: Node cannot raise its own open-file limit, and the workspace packages must resolve
 * to their TypeScript sources (`--conditions=development`) because a fresh clone has no
 * dist/. The re-executed process (CHAT_BENCH_CHILD=1) runs main.ts; this one only forwards
 * signals and the exit code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFdLimits, withRaisedFdLimit } from './fd-limit.js';

if (process.env.CHAT_BENCH_CHILD === '1') {
  await import('./main.js');
} else {
  const main = fileURLToPath(import.meta.url);
  const [cmd, args] = withRaisedFdLimit(process.execPath, ['--conditions=development', '--import', 'tsx', main, ...process.argv.slice(2)]);
  const child = spawn(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, CHAT_BENCH_CHILD: '1', CHAT_BENCH_FD_BEFORE: JSON.stringify(readFdLimits()) },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
