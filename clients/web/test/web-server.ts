/** Runs server.mjs (and the build) as the tests need them: real processes, as in production. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const webDir = fileURLToPath(new URL('..', import.meta.url));

export interface WebServer {
  proc: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** `node build.mjs`: a fresh dist/. */
export function buildPage(): void {
  const res = spawnSync(process.execPath, ['build.mjs'], { cwd: webDir, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`build.mjs failed (${res.status}):\n${res.stdout}${res.stderr}`);
}

/** Starts server.mjs with `env` (PORT=0 picks a free port) and resolves once it listens. */
export async function startWebServer(env: Record<string, string>): Promise<WebServer> {
  const proc = spawn(process.execPath, ['server.mjs'], { cwd: webDir, env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`server.mjs exited (${code}):\n${out}`)));
  });
  const exited = new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));
  return {
    proc,
    url,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
