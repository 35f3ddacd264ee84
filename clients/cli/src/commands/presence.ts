import { presenceText } from '@chat/client-core';
import type { Context } from '../context.ts';
import { visible } from '../format.ts';

/**
 * `presence <user…>`: online, or offline and when last seen, per user in the order given.
 * Chat tells only about contacts (people the user shares a conversation with): anyone else is
 * `unknown`, so presence reveals nothing about strangers.
 */
export async function presence(ctx: Context): Promise<void> {
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const users = await api.presence(session.token, ctx.line.args);
  if (ctx.json) {
    for (const u of users) ctx.outJson(u);
    return;
  }
  const width = Math.max(...users.map((u) => [...visible(u.username)].length));
  const now = new Date();
  for (const u of users) {
    const words = u.status === 'unknown' ? 'unknown (not a contact of yours, or no such user)' : u.status === 'online' ? 'online' : presenceText(u, now).replace(/^last seen/, 'offline, last seen');
    ctx.out(`${visible(u.username).padEnd(width)}  ${words}`);
  }
}
