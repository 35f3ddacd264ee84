import type { Middleware } from 'koa';
import { usernameKey } from '@chat/common/contracts';
import { authUser } from '@chat/common/koa';
import type { UserDirectory } from '@chat/common/user-directory';
import type { ContactsOf } from '../contacts.js';
import type { Presence } from '../presence.js';
import { parseUsernameList } from '../validation.js';

/**
 * `GET /presence?users=a,b`: each named user's status, in the order asked. Presence is not
 * public: only the caller's contacts (and the caller) get a real status; anyone else, and a
 * name nobody has, answers `unknown`, so the answer does not even tell whether a user exists.
 * A name outside the username rule is a 400 (validation.ts): it is malformed, not unknown.
 */
export function presenceRoute(deps: { presence: Presence; contactsOf: ContactsOf; directory: UserDirectory }): Middleware {
  return async (ctx) => {
    const caller = authUser(ctx);
    const names = parseUsernameList(ctx.query.users as string | string[] | undefined, 'users');
    const [users, contacts] = await Promise.all([
      Promise.all([...new Set(names.map(usernameKey))].map(async (key) => [key, await deps.directory.resolve(key)] as const)),
      deps.contactsOf([caller.id]).then((found) => found.get(caller.id)!),
    ]);
    const byName = new Map(users);
    const visible = [...byName.values()].filter((u) => u !== null && (u.id === caller.id || contacts.has(u.id))).map((u) => u!.id);
    const statuses = await deps.presence.statusOf(visible);
    ctx.body = {
      users: names.map((username) => {
        const user = byName.get(usernameKey(username));
        const status = user ? statuses.get(user.id) : undefined;
        if (!status) return { username, status: 'unknown' };
        return status.lastSeen === undefined ? { username, status: status.status } : { username, status: status.status, lastSeen: new Date(status.lastSeen).toISOString() };
      }),
    };
  };
}
