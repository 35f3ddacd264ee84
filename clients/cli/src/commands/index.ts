/** Command name → implementation. The grammar (arguments, options) is in args.ts. */
import type { CommandName } from '../args.ts';
import type { Context } from '../context.ts';
import { helpText } from '../help.ts';
import { conversations } from './conversations.ts';
import { groupAdd, groupCreate, groupLeave, groupRemove, groupRename, groupRole, groupShow } from './group.ts';
import { history } from './history.ts';
import { listen } from './listen.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { presence } from './presence.ts';
import { read, receipts } from './read.ts';
import { register } from './register.ts';
import { send } from './send.ts';

export const RUN: Record<CommandName, (ctx: Context) => Promise<void>> = {
  register,
  login,
  send,
  history,
  conversations,
  read,
  receipts,
  presence,
  listen,
  'group create': groupCreate,
  'group show': groupShow,
  'group rename': groupRename,
  'group add': groupAdd,
  'group remove': groupRemove,
  'group role': groupRole,
  'group leave': groupLeave,
  logout,
  help: async (ctx) => ctx.out(helpText().trimEnd()),
};
