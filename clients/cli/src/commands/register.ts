import type { Context } from '../context.ts';
import { obtainPassword } from '../password.ts';

export async function register(ctx: Context): Promise<void> {
  const username = ctx.line.args[0]!;
  const endpoints = ctx.endpoints(ctx.storedEndpoints());
  const password = await obtainPassword({ flag: ctx.line.password, env: ctx.io.env, stdin: ctx.io.stdin, stderr: ctx.io.stderr, confirm: true });
  const user = await ctx.api(endpoints).register(username, password);
  if (ctx.json) ctx.outJson(user);
  else ctx.out(`Registered ${user.username}. Log in with: pnpm chat login ${user.username}`);
}
