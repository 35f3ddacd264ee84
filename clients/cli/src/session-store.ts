/**
 * What the terminal client keeps between runs, in one directory only its user can read:
 * - `session.json`: the token, who it belongs to, when it expires and the endpoints it was
 *   issued for (`login` writes it, `logout` removes it);
 * - `listen-cursor.json`: the position `listen` has printed up to, so a restart resumes there.
 *
 * The token is a credential, so the directory is created 0700 and every file 0600. Files are
 * written to a fresh temporary name and renamed over the old one: a process killed mid-write
 * (listen is stopped with SIGKILL as often as with Ctrl-C) leaves the old file or the new one,
 * never half of one. No fsync: that guards against a power cut, not a killed process, and
 * `listen` rewrites the cursor after every message.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Endpoints, User } from '@chat/client-core';

export interface StoredSession {
  token: string;
  user: User;
  /** ISO time the token stops being accepted (from `expiresIn` at login). */
  expiresAt: string;
  endpoints: Endpoints;
}

/** The stored file exists but cannot be used (edited by hand, from another version, truncated). */
export class StoreFileError extends Error {
  override readonly name = 'StoreFileError';
}

/** `$CHAT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/chat-k8s`, else `~/.config/chat-k8s`. */
export function configDir(env: Record<string, string | undefined>, home: string = homedir()): string {
  if (env.CHAT_CONFIG_DIR) return resolve(env.CHAT_CONFIG_DIR);
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'chat-k8s');
}

export class SessionStore {
  constructor(readonly dir: string) {}

  get sessionPath(): string {
    return join(this.dir, 'session.json');
  }

  get cursorPath(): string {
    return join(this.dir, 'listen-cursor.json');
  }

  /** undefined when nobody is logged in; throws `StoreFileError` for a file it cannot read. */
  loadSession(): StoredSession | undefined {
    const data = this.readJson(this.sessionPath);
    if (data === undefined) return undefined;
    const s = data as Partial<StoredSession>;
    const ok =
      typeof s.token === 'string' &&
      typeof s.user?.id === 'string' &&
      typeof s.user?.username === 'string' &&
      typeof s.expiresAt === 'string' &&
      typeof s.endpoints?.authUrl === 'string' &&
      typeof s.endpoints?.chatUrl === 'string' &&
      typeof s.endpoints?.gatewayUrl === 'string';
    if (!ok) throw new StoreFileError(`${this.sessionPath} is not a session this client wrote`);
    return { token: s.token!, user: { id: s.user!.id, username: s.user!.username }, expiresAt: s.expiresAt!, endpoints: s.endpoints! };
  }

  saveSession(session: StoredSession): void {
    this.writePrivate(this.sessionPath, session);
  }

  /** True when there was a session to remove. */
  clearSession(): boolean {
    try {
      rmSync(this.sessionPath);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * The position `listen` stored for `userId`. A cursor belongs to one user (the gateway
   * refuses anyone else's), so a position left by another account is ignored.
   */
  loadCursor(userId: string): string | undefined {
    let data: unknown;
    try {
      data = this.readJson(this.cursorPath);
    } catch (err) {
      // A cursor is not a credential and can be rebuilt; an unreadable one means "no position".
      if (err instanceof StoreFileError) return undefined;
      throw err;
    }
    const c = data as { userId?: unknown; cursor?: unknown } | undefined;
    return c?.userId === userId && typeof c.cursor === 'string' ? c.cursor : undefined;
  }

  /** `undefined` forgets the position (the gateway refused it). */
  saveCursor(userId: string, cursor: string | undefined): void {
    if (cursor === undefined) rmSync(this.cursorPath, { force: true });
    else this.writePrivate(this.cursorPath, { userId, cursor });
  }

  private readJson(path: string): unknown {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new StoreFileError(`${path} is not valid JSON`);
    }
  }

  private ensureDir(): void {
    // mkdir's mode only applies to directories it creates, and the umask can take bits away
    // (an odd umask could even remove the owner's write bit), so a new directory is set to
    // exactly 0700. An existing directory is left as it is: CHAT_CONFIG_DIR may point at a
    // directory the user chose and manages; the files inside are 0600 either way.
    const created = mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) chmodSync(this.dir, 0o700);
  }

  private writePrivate(path: string, value: unknown): void {
    this.ensureDir();
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    // 'wx' (O_EXCL): never open something already at that name, such as a planted symlink.
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      fchmodSync(fd, 0o600);
      writeFileSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
}
