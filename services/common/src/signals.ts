/**
 * Signals: what travels on the `chat.ephemeral` exchange (broker.ts) beside the durable message
 * path. Typing, live read receipts and presence are worth something only now: they are never
 * stored, never replayed, and published without confirms, so losing one costs a stale
 * indicator, never a message. What must survive (a read mark, a last-seen time) is stored by
 * Chat; a signal only tells live sockets about it sooner.
 *
 * Routing keys name the kind's family: gateways take all of them, Chat takes `presence` only.
 */
import type { UserRef } from './events.js';

export const SIGNAL_ROUTING_KEYS = ['typing', 'read', 'presence'] as const;
export type SignalRoutingKey = (typeof SIGNAL_ROUTING_KEYS)[number];

/** Someone types in a conversation; `to` are the other members (never the typer). */
export interface TypingSignal {
  v: 1;
  kind: 'typing';
  conversationId: string;
  user: UserRef;
  to: string[];
}

/** A read mark moved; `to` are every member, the reader included (their other devices). */
export interface ReadSignal {
  v: 1;
  kind: 'read';
  conversationId: string;
  user: UserRef;
  readUpTo: string;
  /** ISO time of the mark. */
  at: string;
  to: string[];
}

/**
 * What a gateway pod reports about its own sockets. `online`/`offline` when a user's first
 * socket opens or last one closes there; a `beat` with every user it holds, every few seconds,
 * which is what proves the pod alive and repairs a lost online/offline; `bye` when it drains.
 * `at` is the pod's clock in epoch ms (a last-seen time comes from it).
 */
export type PresenceSignal =
  | { v: 1; kind: 'online' | 'offline'; pod: string; user: UserRef; at: number }
  | { v: 1; kind: 'beat'; pod: string; at: number; users: [id: string, username: string][] }
  | { v: 1; kind: 'bye'; pod: string; at: number };

export type Signal = TypingSignal | ReadSignal | PresenceSignal;

/** Every signal `kind`; api/asyncapi.yaml is checked against this table. */
export const SIGNAL_KINDS = ['typing', 'read', 'online', 'offline', 'beat', 'bye'] as const satisfies readonly Signal['kind'][];
// Complete: a kind added to the Signal types but not to the table stops compiling here.
const everySignalKind: [Exclude<Signal['kind'], (typeof SIGNAL_KINDS)[number]>] extends [never] ? true : never = true;
void everySignalKind;

export function routingKeyOf(signal: Signal): SignalRoutingKey {
  return signal.kind === 'typing' || signal.kind === 'read' ? signal.kind : 'presence';
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isUser = (v: unknown): v is UserRef => typeof v === 'object' && v !== null && isString((v as UserRef).id) && isString((v as UserRef).username);
const isIdList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** Validates a signal from the wire (a Buffer or parsed JSON); undefined for anything malformed. */
export function parseSignal(content: unknown): Signal | undefined {
  let value = content;
  if (Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString('utf8'));
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Record<string, unknown>;
  if (s.v !== 1) return undefined;
  switch (s.kind) {
    case 'typing':
      return isString(s.conversationId) && isUser(s.user) && isIdList(s.to) ? (s as unknown as TypingSignal) : undefined;
    case 'read':
      return isString(s.conversationId) && isUser(s.user) && isString(s.readUpTo) && isString(s.at) && isIdList(s.to) ? (s as unknown as ReadSignal) : undefined;
    case 'online':
    case 'offline':
      return isString(s.pod) && isUser(s.user) && Number.isFinite(s.at) ? (s as unknown as PresenceSignal) : undefined;
    case 'beat':
      return isString(s.pod) && Number.isFinite(s.at) && Array.isArray(s.users) && s.users.every((u) => Array.isArray(u) && u.length === 2 && isString(u[0]) && isString(u[1]))
        ? (s as unknown as PresenceSignal)
        : undefined;
    case 'bye':
      return isString(s.pod) && Number.isFinite(s.at) ? (s as unknown as PresenceSignal) : undefined;
    default:
      return undefined;
  }
}
