/**
 * How a conversation is named on the command line. Usernames hold only letters, digits, `_`,
 * `.` and `-`, so the other forms cannot be mistaken for one:
 * - `bob`: the 1:1 with that user;
 * - `g:…` or `dm:…`: a conversation by its id (as `conversations --json` shows it);
 * - `#Team`: the group of yours with that name (quoted in a shell, where `#` starts a comment).
 * The `group` commands take an id or a name, with or without the `#`.
 *
 * Pure, apart from the list of the user's groups that a name is looked up in.
 */
import { isConversationId, type ConversationListEntry } from '@chat/client-core';
import { CliError, EXIT } from './errors.ts';

export type Target = { kind: 'user'; username: string } | { kind: 'conversation'; id: string } | { kind: 'group-name'; name: string };

export function parseTarget(text: string): Target {
  if (isConversationId(text)) return { kind: 'conversation', id: text };
  if (text.startsWith('#')) return { kind: 'group-name', name: text.slice(1) };
  return { kind: 'user', username: text };
}

/** A `group` command's `<group>`: an id, or a name with or without `#`. */
export function parseGroupRef(text: string): Target {
  if (isConversationId(text)) return { kind: 'conversation', id: text };
  return { kind: 'group-name', name: text.startsWith('#') ? text.slice(1) : text };
}

export interface NamedGroup {
  id: string;
  name: string;
}

/**
 * The one group named `name` among `entries` (exact first, then ignoring letter case). Two
 * groups may share a name; then the ids are the way to say which.
 */
export function findGroupByName(name: string, entries: readonly ConversationListEntry[]): NamedGroup {
  const groups = entries.filter((e): e is Extract<ConversationListEntry, { type: 'group' }> => e.type === 'group');
  const wanted = name.trim();
  let found = groups.filter((g) => g.name === wanted);
  if (found.length === 0) found = groups.filter((g) => g.name.toLowerCase() === wanted.toLowerCase());
  if (found.length === 1) return { id: found[0]!.id, name: found[0]!.name };
  if (found.length === 0) throw new CliError(EXIT.refused, `You are in no group named "${wanted}". Your groups: pnpm chat conversations`);
  throw new CliError(EXIT.refused, `${found.length} of your groups are named "${wanted}"; say which by its id: ${found.map((g) => g.id).join(', ')}`);
}

/** Where a command goes once a name is looked up: a user, or a conversation id (with the group's name when known). */
export type Resolved = { kind: 'user'; username: string } | { kind: 'conversation'; id: string; name?: string };

/** Looks a `#name` up in the user's conversations (`list` fetches them, only when needed). */
export async function resolveTarget(target: Target, list: () => Promise<readonly ConversationListEntry[]>): Promise<Resolved> {
  if (target.kind !== 'group-name') return target;
  const group = findGroupByName(target.name, await list());
  return { kind: 'conversation', id: group.id, name: group.name };
}
