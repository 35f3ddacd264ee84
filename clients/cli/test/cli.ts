/**
 * Runs the terminal client as users do: a real child process started with the exact command
 * of the root package.json's `chat` script, from the repository root, with its own config
 * directory. Waiting is on output (each chunk is checked as it arrives), never on a timer.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { registerAndLogin, repoRoot, uniqueName, type Stack } from '@chat/testkit';
import type { ChatMessage } from '@chat/client-core';

/** `node --conditions=development --import tsx clients/cli/src/main.ts`, read from package.json. */
export function chatCommand(): { command: string; args: string[] } {
  const script = (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.chat;
  assert.ok(script, 'the root package.json has a "chat" script');
  const [bin, ...args] = script.split(/\s+/);
  assert.equal(bin, 'node');
  return { command: process.execPath, args };
}

const tempRoot = mkdtempSync(join(tmpdir(), 'chat-cli-test-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));
let dirs = 0;

/** A config directory that does not exist yet (so the client creates it). */
export function newConfigDir(): string {
  return join(tempRoot, `user${dirs++}`, 'chat-k8s');
}

/** The test's environment without any CHAT_* a developer's shell may carry, plus `extra`. */
export function cliEnv(configDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CHAT_')) env[k] = v;
  return { ...env, CHAT_CONFIG_DIR: configDir, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Clients still running when a file's tests end (a failed test leaves its `listen` behind). */
const running = new Set<ChildProcess>();
after(() => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** A running client process with its output so far. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private readonly watchers = new Set<() => void>();

  constructor(readonly proc: ChildProcess) {
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.notify();
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      proc.once('close', (code, signal) => {
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  /** Complete stdout lines. */
  get lines(): string[] {
    return this.stdout.split('\n').slice(0, -1);
  }

  /** Resolves once `check` holds for the output; rejects with the output on timeout or exit. */
  waitFor(what: string, check: (p: CliProcess) => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        if (err) reject(err);
        else resolve();
      };
      const fail = (why: string) => done(new Error(`${why} waiting for ${what}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`));
      const watch = () => {
        if (check(this)) done();
        else if (this.proc.exitCode !== null || this.proc.signalCode !== null) fail(`exited (${this.proc.exitCode ?? this.proc.signalCode})`);
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      this.watchers.add(watch);
      watch();
    });
  }

  async kill(signal: NodeJS.Signals): Promise<CliResult> {
    this.proc.kill(signal);
    return this.exited;
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }
}

export function startCli(configDir: string, args: string[], opts: { env?: Record<string, string> } = {}): CliProcess {
  const { command, args: base } = chatCommand();
  const proc = spawn(command, [...base, ...args], { cwd: repoRoot(), env: cliEnv(configDir, opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  return new CliProcess(proc);
}

/** Runs one command to its end (killed after `timeoutMs`, which then fails the assertion on `code`). */
export async function runCli(configDir: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = startCli(configDir, args, opts);
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const res = await p.exited;
  clearTimeout(timer);
  return res;
}

/** Asserts the exit code, showing the output when it differs. */
export function assertExit(res: CliResult, code: number): void {
  assert.equal(res.code, code, `exit ${res.code ?? res.signal}, expected ${code}\n--- stdout ---\n${res.stdout}\n--- stderr ---\n${res.stderr}`);
}

/** A human message line as `send`, `history` and `listen` print it. */
export function messageLine(from: string, to: string, text: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The date shows too when the message is not from today (a run across midnight).
  return new RegExp(`^(\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d {2}${esc(from)} → ${esc(to)} {2}${esc(text)}$`, 'm');
}

/** A user registered and logged in through the client, in a config directory of their own. */
export interface CliUser {
  name: string;
  id: string;
  token: string;
  dir: string;
}

export async function cliUser(stack: Stack, prefix: string): Promise<CliUser> {
  const u = await registerAndLogin(stack.auth.url, uniqueName(prefix));
  const dir = newConfigDir();
  const gateway = stack.gateway.url.replace(/^http/, 'ws');
  assertExit(await runCli(dir, ['login', u.username, '--password', u.password, '--auth', stack.auth.url, '--chat', stack.chat.url, '--gateway', gateway]), 0);
  return { name: u.username, id: u.id, token: u.token, dir };
}

/** Sends through the client with --json; the stored message (asserting it was created, not a repeat). */
export async function cliSend(from: CliUser, to: CliUser, text: string): Promise<ChatMessage> {
  const res = await runCli(from.dir, ['send', to.name, text, '--json']);
  assertExit(res, 0);
  const out = JSON.parse(res.stdout) as { created: boolean; message: ChatMessage };
  assert.equal(out.created, true);
  return out.message;
}
