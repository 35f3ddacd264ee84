import type { Context } from '../context.ts';
import { formatTime } from '../format.ts';
import { obtainPassword } from '../password.ts';

/** Logs in and stores the session with the endpoints used, so later commands need no flags. The token is never printed. */
export async function login(ctx: Context): Promise<void> {
  const username = ctx.line.args[0]!;
  const endpoints = ctx.endpoints(ctx.storedEndpoints());
  const password = await obtainPassword({ flag: ctx.line.password, env: ctx.io.env, stdin: ctx.io.stdin, stderr: ctx.io.stderr, confirm: false });
  const session = await ctx.api(endpoints).login(username, password);
  const expiresAt = new Date(Date.now() + session.expiresIn * 1000).toISOString();
  ctx.store.saveSession({ token: session.token, user: session.user, expiresAt, endpoints });
  if (ctx.json) ctx.outJson({ user: session.user, expiresAt, endpoints });
  else ctx.out(`Logged in as ${session.user.username} until ${formatTime(expiresAt)}. The session is stored in ${ctx.store.sessionPath}, readable only by you.`);
}
