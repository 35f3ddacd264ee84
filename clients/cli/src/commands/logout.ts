import type { Context } from '../context.ts';

/**
 * Removes the stored session (the token). The server keeps no session to end: the token simply
 * stops being presented. `listen`'s position is kept, so logging in again as the same user
 * resumes where it stopped; it holds no secret.
 */
export async function logout(ctx: Context): Promise<void> {
  const removed = ctx.store.clearSession();
  if (ctx.json) ctx.outJson({ loggedOut: removed });
  else ctx.out(removed ? 'Logged out.' : 'You were not logged in.');
}
