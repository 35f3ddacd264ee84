import type { ConversationsRepository } from './conversations-repo.js';

/**
 * A user's contacts: everyone who shares a conversation with them (the peer of each 1:1
 * conversation in their list, every member of each of their groups). Presence is shown to
 * contacts only, and `GET /presence` answers only about them.
 *
 * Cost per lookup of N users: one read of each user's list entries (equality on the user,
 * mongo-portability.ts rule 2), then one read of the members of each distinct group among
 * them, shared by all N. A 1:1 conversation counts once its list entries exist (written off
 * the send path by conversation-activity.ts, within a second of its first message).
 */
export type ContactsOf = (userIds: readonly string[]) => Promise<Map<string, Set<string>>>;

export function createContactsLookup(conversations: ConversationsRepository): ContactsOf {
  return async (userIds) => {
    const entries = await Promise.all(userIds.map((id) => conversations.entriesOf(id)));
    const groupIds = new Set<string>();
    for (const list of entries) for (const e of list) if (e.type === 'group') groupIds.add(e.conversationId);
    const groups = [...groupIds];
    const members = new Map(groups.map((g, i) => [g, i] as const));
    const memberLists = await Promise.all(groups.map((g) => conversations.members(g)));
    const result = new Map<string, Set<string>>();
    userIds.forEach((userId, i) => {
      const contacts = new Set<string>();
      for (const e of entries[i]!) {
        if (e.type === 'direct') {
          if (e.peer) contacts.add(e.peer.id);
        } else {
          for (const m of memberLists[members.get(e.conversationId)!]!) contacts.add(m.userId);
        }
      }
      contacts.delete(userId);
      result.set(userId, contacts);
    });
    return result;
  };
}
