/**
 * Who of the user's contacts is online (issue 14). Two sources: `GET /presence` on every
 * (re)connect for the people on screen (frames missed while disconnected are not replayed),
 * then `presence` frames as they change. Chat answers `unknown` for anyone who is not a
 * contact; that is kept, so a screen shows nothing rather than a guess.
 *
 * Keyed by username without letter case, as the rest of the client names people.
 */
import type { PresenceEntry, PresenceStatus } from './conversation-types.ts';
import type { PresenceFrame } from './live.ts';
import { usernameKey } from '@chat/common/contracts';

export interface Presence {
  status: PresenceStatus;
  /** ISO time, with `offline` when the user ever connected. */
  lastSeen?: string;
}

export class PresenceBook {
  private readonly byName = new Map<string, Presence>();

  /** A `presence` frame. True when what a screen shows changed. */
  apply(frame: Pick<PresenceFrame, 'user' | 'status' | 'lastSeen'>): boolean {
    return this.set(frame.user.username, { status: frame.status, lastSeen: frame.status === 'offline' ? frame.lastSeen : undefined });
  }

  /** `GET /presence`'s answer. True when anything changed. */
  applyList(entries: readonly PresenceEntry[]): boolean {
    let changed = false;
    for (const e of entries) changed = this.set(e.username, { status: e.status, lastSeen: e.status === 'offline' ? e.lastSeen : undefined }) || changed;
    return changed;
  }

  get(username: string): Presence | undefined {
    return this.byName.get(usernameKey(username));
  }

  has(username: string): boolean {
    return this.byName.has(usernameKey(username));
  }

  private set(username: string, p: Presence): boolean {
    const key = usernameKey(username);
    const old = this.byName.get(key);
    if (old && old.status === p.status && old.lastSeen === p.lastSeen) return false;
    this.byName.set(key, p.lastSeen === undefined ? { status: p.status } : p);
    return true;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * "online", "last seen just now", "last seen 5 min ago", "last seen today at 09:12",
 * "last seen yesterday at 22:40", "last seen 3 Mar at 10:00" (local time); "offline" without a
 * time (never connected), and "" for unknown.
 */
export function presenceText(p: Presence | undefined, now: Date = new Date()): string {
  if (!p || p.status === 'unknown') return '';
  if (p.status === 'online') return 'online';
  if (p.lastSeen === undefined) return 'offline';
  const seen = new Date(p.lastSeen);
  if (Number.isNaN(seen.getTime())) return 'offline';
  const ago = now.getTime() - seen.getTime();
  if (ago < 60_000) return 'last seen just now';
  if (ago < 60 * 60_000) return `last seen ${Math.floor(ago / 60_000)} min ago`;
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(now) - day(seen)) / 86_400_000);
  if (days === 0) return `last seen today at ${clock(seen)}`;
  if (days === 1) return `last seen yesterday at ${clock(seen)}`;
  const year = seen.getFullYear() === now.getFullYear() ? '' : ` ${seen.getFullYear()}`;
  return `last seen ${seen.getDate()} ${MONTHS[seen.getMonth()]}${year} at ${clock(seen)}`;
}
