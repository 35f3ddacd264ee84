import type { Middleware } from 'koa';
import { RequestError } from './errors.js';
import { bearerToken, tokenAlgorithm, type TokenUser, type VerifyUserToken } from './jwt.js';

export interface AuthState {
  /** Set for a user token. */
  user?: TokenUser;
  /** Set for a service token (only where `verifyService` is given). */
  service?: string;
  /** The raw bearer token, for calls made on the user's behalf. Never log it. */
  token?: string;
}

/**
 * Requires `Authorization: Bearer <token>`. A user token (ES256) sets `ctx.state.auth.user`;
 * where a service verifier is given, an HS256 service token sets `ctx.state.auth.service`.
 */
export function koaRequireAuth(verifyUser: VerifyUserToken, verifyService?: (t: string) => Promise<{ service: string }>): Middleware {
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('authorization') || undefined);
    if (!token) throw new RequestError(401, 'unauthorized', 'missing bearer token');
    const auth: AuthState = { token };
    if (verifyService && tokenAlgorithm(token) === 'HS256') {
      auth.service = (await verifyService(token)).service;
    } else {
      auth.user = await verifyUser(token);
    }
    ctx.state.auth = auth;
    return next();
  };
}

export function authUser(ctx: { state: { auth?: AuthState } }): TokenUser {
  const user = ctx.state.auth?.user;
  if (!user) throw new RequestError(401, 'unauthorized', 'a user token is required');
  return user;
}
