/**
 * Helpers for the gateway's integration tests (the processes come from @chat/testkit's
 * startStack; the WebSocket TestClient from @chat/testkit too): a refused upgrade's status, and
 * user tokens signed the way Auth signs them.
 */
import { TestClient, type Stack } from '@chat/testkit';

/** The HTTP status of a refused upgrade (fails the test when the upgrade succeeds). */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  try {
    const c = await TestClient.open(url, { headers });
    c.close();
    throw new Error('upgrade unexpectedly succeeded');
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status === undefined) throw err;
    return { status: e.status, body: e.body ? JSON.parse(e.body) : undefined };
  }
}

/** Signs a user token the way Auth does (same key and kid), with claims a test chooses. */
export async function signUserToken(
  stack: Stack,
  claims: { sub: string; username: string; exp: number; aud?: string; iss?: string },
): Promise<string> {
  const { SignJWT } = await import('jose');
  const { createPrivateKey } = await import('node:crypto');
  const jwks = (await (await fetch(`${stack.auth.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  const kid = jwks.keys[0]!.kid;
  return new SignJWT({ username: claims.username })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(claims.iss ?? 'chat-auth')
    .setAudience(claims.aud ?? 'chat')
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.exp)
    .sign(createPrivateKey(stack.env.JWT_PRIVATE_KEY!));
}
