/**
 * What a command runs with: the parsed command line, the environment, the session store and
 * the two output streams. stdout carries results only (messages, lists, JSON); notes, status
 * and errors go to stderr, so `pnpm --silent chat listen --json | jq` sees nothing but JSON.
 */
import { ChatApi, type Endpoints } from '@chat/client-core';
import type { CommandLine } from './args.ts';
import { resolveEndpoints } from './endpoints.ts';
import { jsonLine } from './json-line.ts';
import { notLoggedIn } from './errors.ts';
import type { PasswordInput } from './password.ts';
import { configDir, SessionStore, type StoredSession } from './session-store.ts';

export interface Io {
  env: Record<string, string | undefined>;
  stdin: PasswordInput;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export class Context {
  readonly store: SessionStore;

  constructor(
    readonly line: CommandLine,
    readonly io: Io,
  ) {
    this.store = new SessionStore(configDir(io.env));
  }

  get json(): boolean {
    return this.line.json;
  }

  /** A result line on stdout. */
  out(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A result as one line of JSON on stdout, with no control character left raw (json-line.ts). */
  outJson(value: unknown): void {
    this.out(jsonLine(value));
  }

  /** A note for the person at the terminal, on stderr. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** The logged-in session (throws "not logged in"). */
  session(): StoredSession {
    const s = this.store.loadSession();
    if (!s) throw notLoggedIn();
    return s;
  }

  /** The endpoints a stored session remembers, if a usable one is stored (for register and login). */
  storedEndpoints(): Endpoints | undefined {
    try {
      return this.store.loadSession()?.endpoints;
    } catch {
      return undefined; // an unreadable session is replaced by the next login anyway
    }
  }

  /** Flags and environment first, then what `stored` (a session) remembers, then the defaults. */
  endpoints(stored?: Endpoints): Endpoints {
    return resolveEndpoints(this.line, this.io.env, stored);
  }

  api(endpoints: Endpoints): ChatApi {
    return new ChatApi(endpoints);
  }
}
