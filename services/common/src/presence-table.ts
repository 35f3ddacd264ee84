import type { UserRef } from './events.js';
import type { PresenceSignal } from './signals.js';

/**
 * Who is online in the whole cluster, rebuilt by every process that reads the presence signals
 * (each gateway pod and each Chat pod runs one; they all read the same stream, so they agree).
 *
 * Invariant: a user is online while at least one live pod holds a socket of theirs, and for
 * `graceMs` after the last one closed; a change is announced once, when the status flips. So a
 * reconnect within the grace, to the same pod or another, announces nothing (a drain or a
 * network blip never flaps), and a user who connects twice at once is announced once.
 *
 * Why not the obvious designs: a database row per connect would write on every connect of a
 * reconnect storm; asking every pod on demand needs every pod to answer, dead ones included.
 * Here state lives in memory, fed by what pods report about their own sockets: `online` and
 * `offline` as they happen, and a `beat` with all their users every few seconds. The beat is
 * what tells the cluster a pod is alive: a pod not heard from for `timeoutMs` (SIGKILLed, cut
 * off) is dropped with its users, without its help. A beat also repairs a lost online/offline.
 * A process that just started learns the users online before it from the first beats, and
 * takes them silently for `warmupMs` (they did not just change).
 *
 * Cost: one entry per user seen (offline ones kept for their last-seen time, the oldest beyond
 * `maxEntries` forgotten), one per pod; a signal is O(1), a beat O(its users), a tick O(users
 * in grace + pods). The clock is injectable.
 */
export interface PresenceChange {
  user: UserRef;
  status: 'online' | 'offline';
  /** Epoch ms, with `offline`: when the last socket closed, as its pod saw it. */
  lastSeen?: number;
}

export interface PresenceStatus {
  status: 'online' | 'offline';
  lastSeen?: number;
}

export interface PresenceTableOptions {
  graceMs: number;
  timeoutMs: number;
  /** How long after start users first seen in a beat are taken silently (about one beat interval). */
  warmupMs: number;
  onChange: (change: PresenceChange) => void;
  now?: () => number;
  maxEntries?: number;
}

interface PodState {
  /** Our clock when we last heard from it. */
  heardAt: number;
  /** Its clock in its last signal (the last-seen time of its users if it dies). */
  at: number;
  users: Set<string>;
}

interface UserState {
  user: UserRef;
  pods: Set<string>;
  announced: 'online' | 'offline' | undefined;
  /** Our clock when its last pod let go of it (set while in grace). */
  emptySince?: number;
  lastSeen?: number;
}

export class PresenceTable {
  private readonly pods = new Map<string, PodState>();
  /** Insertion order is last-change order: the oldest offline entries are evicted first. */
  private readonly users = new Map<string, UserState>();
  private readonly inGrace = new Set<string>();
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly maxEntries: number;
  private lastTickAt: number;

  constructor(private readonly opts: PresenceTableOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.lastTickAt = this.startedAt;
    this.maxEntries = opts.maxEntries ?? 200_000;
  }

  apply(signal: PresenceSignal): void {
    const now = this.now();
    if (signal.kind === 'bye') {
      const pod = this.pods.get(signal.pod);
      if (!pod) return;
      this.pods.delete(signal.pod);
      for (const id of pod.users) this.release(id, signal.pod, signal.at, now);
      return;
    }
    const pod = this.pod(signal.pod, now);
    pod.heardAt = now;
    pod.at = signal.at;
    if (signal.kind !== 'beat') {
      if (signal.kind === 'online') {
        pod.users.add(signal.user.id);
        this.hold(signal.user, signal.pod, true);
      } else {
        pod.users.delete(signal.user.id);
        this.release(signal.user.id, signal.pod, signal.at, now);
      }
    } else {
      const announce = now - this.startedAt >= this.opts.warmupMs;
      const held = new Set<string>();
      for (const [id, username] of signal.users) {
        held.add(id);
        if (pod.users.has(id)) continue;
        pod.users.add(id);
        this.hold({ id, username }, signal.pod, announce);
      }
      for (const id of pod.users) {
        if (held.has(id)) continue;
        pod.users.delete(id);
        this.release(id, signal.pod, signal.at, now);
      }
    }
  }

  /** Ends graces that ran out and drops pods not heard from within the timeout; call about every second. */
  tick(): void {
    const now = this.now();
    // A tick that comes late means this process was stalled, and signals may be waiting unread
    // in its socket (timers run before I/O is read): judge no pod by a silence that may be ours.
    const stalled = now - this.lastTickAt > this.opts.timeoutMs / 3;
    this.lastTickAt = now;
    for (const [name, pod] of stalled ? [] : this.pods) {
      if (now - pod.heardAt <= this.opts.timeoutMs) continue;
      this.pods.delete(name);
      // The timeout is longer than any grace: its users are offline now, unless held elsewhere.
      for (const id of pod.users) this.release(id, name, pod.at, now - this.opts.graceMs);
    }
    for (const id of this.inGrace) {
      const state = this.users.get(id);
      if (!state || state.emptySince === undefined) {
        this.inGrace.delete(id);
        continue;
      }
      if (now - state.emptySince < this.opts.graceMs) continue;
      this.inGrace.delete(id);
      state.emptySince = undefined;
      if (state.announced === 'offline') continue;
      state.announced = 'offline';
      this.touch(id, state);
      this.opts.onChange({ user: state.user, status: 'offline', lastSeen: state.lastSeen });
    }
  }

  /** Undefined when this process has never seen the user. */
  status(userId: string): PresenceStatus | undefined {
    const state = this.users.get(userId);
    if (!state) return undefined;
    if (state.pods.size > 0 || state.emptySince !== undefined) return { status: 'online' };
    return state.lastSeen === undefined ? { status: 'offline' } : { status: 'offline', lastSeen: state.lastSeen };
  }

  /** Users online now (held by a pod or in grace). */
  get onlineCount(): number {
    let n = 0;
    for (const state of this.users.values()) if (state.pods.size > 0 || state.emptySince !== undefined) n++;
    return n;
  }

  get podCount(): number {
    return this.pods.size;
  }

  private pod(name: string, now: number): PodState {
    let pod = this.pods.get(name);
    if (!pod) {
      pod = { heardAt: now, at: 0, users: new Set() };
      this.pods.set(name, pod);
    }
    return pod;
  }

  private hold(user: UserRef, pod: string, announce: boolean): void {
    let state = this.users.get(user.id);
    if (!state) {
      state = { user, pods: new Set(), announced: undefined };
      this.users.set(user.id, state);
    }
    state.pods.add(pod);
    state.emptySince = undefined;
    this.inGrace.delete(user.id);
    if (state.announced === 'online') return;
    state.announced = 'online';
    this.touch(user.id, state);
    if (announce) this.opts.onChange({ user: state.user, status: 'online' });
  }

  private release(id: string, pod: string, at: number, graceStart: number): void {
    const state = this.users.get(id);
    if (!state || !state.pods.delete(pod) || state.pods.size > 0) return;
    state.lastSeen = at;
    state.emptySince = graceStart;
    this.inGrace.add(id);
  }

  /** Moves an entry to the end of the eviction order, and forgets the oldest offline ones beyond the cap. */
  private touch(id: string, state: UserState): void {
    this.users.delete(id);
    this.users.set(id, state);
    if (this.users.size <= this.maxEntries) return;
    for (const [oldId, old] of this.users) {
      if (this.users.size <= this.maxEntries) break;
      if (old.pods.size === 0 && old.emptySince === undefined) this.users.delete(oldId);
    }
  }
}
