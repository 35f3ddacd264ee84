/**
 * `group create|show|rename|add|remove|role|leave`: thin calls to Chat's conversation routes.
 * Chat enforces who may do what (owner, admin, member) and answers 403 `forbidden`; this only
 * finds the group (targets.ts) and prints the group as Chat returns it after the change.
 */
import type { GroupConversation, GroupMember } from '@chat/client-core';
import { UsageError } from '../args.ts';
import type { Context } from '../context.ts';
import { groupLabel, visible } from '../format.ts';
import { parseGroupRef, resolveTarget } from '../targets.ts';

/** The session, its API client, and the group named by the first argument. */
async function groupContext(ctx: Context) {
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const target = await resolveTarget(parseGroupRef(ctx.line.args[0]!), async () => (await api.allConversations(session.token)).conversations);
  if (target.kind !== 'conversation') throw new Error('unreachable: a group reference is never a user');
  return { session, api, token: session.token, id: target.id };
}

const ROLE_ORDER: Record<GroupMember['role'], number> = { owner: 0, admin: 1, member: 2 };

/** `#Team (g:…), 3 members` and one line per member, the owner first, then admins. */
function printGroup(ctx: Context, g: GroupConversation, headline?: string): void {
  if (ctx.json) return ctx.outJson(g);
  if (headline) ctx.out(headline);
  ctx.out(`${groupLabel(g.id, () => g.name)} (${g.id}), ${g.members.length} member${g.members.length === 1 ? '' : 's'}`);
  const members = [...g.members].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.username.localeCompare(b.username));
  const width = Math.max(...members.map((m) => m.username.length));
  for (const m of members) ctx.out(`  ${visible(m.username).padEnd(width)}  ${m.role}`);
}

export async function groupCreate(ctx: Context): Promise<void> {
  const [name, ...members] = ctx.line.args as [string, ...string[]];
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const g = await api.createGroup(session.token, { name, members });
  printGroup(ctx, g, `Created. Send to it with: pnpm chat send ${g.id} <text>`);
}

export async function groupShow(ctx: Context): Promise<void> {
  const { api, token, id } = await groupContext(ctx);
  printGroup(ctx, await api.group(token, id));
}

export async function groupRename(ctx: Context): Promise<void> {
  const { api, token, id } = await groupContext(ctx);
  // As with send, the words after the group are the name.
  printGroup(ctx, await api.renameGroup(token, id, ctx.line.args.slice(1).join(' ')));
}

export async function groupAdd(ctx: Context): Promise<void> {
  const { api, token, id } = await groupContext(ctx);
  printGroup(ctx, await api.addMembers(token, id, ctx.line.args.slice(1)));
}

/** One call per user (Chat's route removes one); stops at the first refusal. */
export async function groupRemove(ctx: Context): Promise<void> {
  const users = ctx.line.args.slice(1);
  // Removing yourself is leaving: Chat answers it differently (204), and it has its own command.
  if (users.some((u) => u.toLowerCase() === ctx.session().user.username.toLowerCase())) {
    throw new UsageError('to remove yourself, leave the group: pnpm chat group leave <group>');
  }
  const { api, token, id } = await groupContext(ctx);
  let g: GroupConversation | undefined;
  for (const u of users) g = await api.removeMember(token, id, u);
  printGroup(ctx, g!);
}

export async function groupRole(ctx: Context): Promise<void> {
  const { api, token, id } = await groupContext(ctx);
  const [, user, role] = ctx.line.args as [string, string, 'admin' | 'member'];
  printGroup(ctx, await api.setRole(token, id, user, role));
}

export async function groupLeave(ctx: Context): Promise<void> {
  const { session, api, token, id } = await groupContext(ctx);
  await api.leaveGroup(token, id, session.user.username);
  if (ctx.json) ctx.outJson({ left: id });
  else ctx.out(`You left ${ctx.line.args[0]}.`);
}
