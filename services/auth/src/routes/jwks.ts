import type { Middleware } from 'koa';
import type { SigningKeySet } from '../keys.js';

/** GET /.well-known/jwks.json: the public halves of the current and previous signing keys. */
export function jwksRoute(keys: SigningKeySet): Middleware {
  const body = JSON.stringify(keys.jwks);
  return (ctx) => {
    // Verifiers cache it anyway and refetch on an unknown kid; a short max-age keeps
    // rotation quick for any HTTP cache in between.
    ctx.set('cache-control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}
