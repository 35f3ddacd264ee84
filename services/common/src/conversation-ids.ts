/**
 * Conversation ids. A 1:1 conversation needs no document to exist: its id is derived from the
 * two user ids, so both users (and every replica) name it the same way without a lookup or a
 * race to create it. A group's id is minted when it is created (by Chat).
 *
 * - direct: `dm:<smaller user id>:<larger user id>` (`dm:<id>:<id>` for a user's notes to self);
 * - group: `g:<24 hex digits>`.
 *
 * Shared because the gateway checks who may type in a 1:1 conversation from its id alone.
 */
export type ConversationRef = { type: 'direct'; id: string; userIds: [string, string] } | { type: 'group'; id: string };

/** The conversation of two users (or of a user with themself): the same id whoever sends. */
export function directConversationId(userA: string, userB: string): string {
  return userA <= userB ? `dm:${userA}:${userB}` : `dm:${userB}:${userA}`;
}

const DIRECT = /^dm:([0-9a-f]{24}):([0-9a-f]{24})$/;
const GROUP = /^g:[0-9a-f]{24}$/;

/** The conversation an id names, or undefined when it cannot name one (a 404, like an unknown id). */
export function parseConversationId(raw: unknown): ConversationRef | undefined {
  if (typeof raw !== 'string' || raw.length > 60) return undefined;
  if (GROUP.test(raw)) return { type: 'group', id: raw };
  const direct = DIRECT.exec(raw);
  if (!direct || direct[1]! > direct[2]!) return undefined;
  return { type: 'direct', id: raw, userIds: [direct[1]!, direct[2]!] };
}

/** The other side of a direct conversation for `userId`, or undefined when `userId` is not in it. */
export function peerIn(ref: Extract<ConversationRef, { type: 'direct' }>, userId: string): string | undefined {
  const [a, b] = ref.userIds;
  if (userId === a) return b;
  if (userId === b) return a;
  return undefined;
}
