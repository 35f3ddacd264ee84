/**
 * The Origin allowlist for upgrades. Browsers always send Origin on a WebSocket upgrade, so an
 * allowlist stops other sites from opening sockets with a user's token (cross-site WebSocket
 * hijacking). Non-browser clients usually send no Origin; those are not cross-site requests and
 * are allowed. An empty list, or one containing `*`, allows every origin.
 */
export function createOriginPolicy(allowed: readonly string[]): (origin: string) => boolean {
  const normalize = (o: string) => o.trim().toLowerCase().replace(/\/+$/, '');
  const set = new Set(allowed.map(normalize).filter(Boolean));
  if (set.size === 0 || set.has('*')) return () => true;
  return (origin) => origin === '' || set.has(normalize(origin));
}
