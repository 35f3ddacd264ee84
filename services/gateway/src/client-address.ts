/**
 * The address a connection is counted against (MAX_SOCKETS_PER_ADDRESS). X-Forwarded-For is a
 * header the client writes, so it is believed only as far as TRUST_PROXY_HOPS says proxies of our
 * own appended to it: with n trusted hops the client is the n-th entry from the right (each proxy
 * appends the address it saw), and anything further left is whatever the client claimed. With 0
 * hops the header is ignored and the TCP peer is the client.
 */

/** uWS gives IPv4 peers of its dual-stack socket as the long IPv4-mapped IPv6 form. */
const MAPPED_IPV4 = /^(?:0{1,4}:){5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/** `0000:…:ffff:7f00:0001` → `127.0.0.1`; anything else trimmed and lower-cased. */
export function normalizeAddress(address: string): string {
  const text = address.trim().toLowerCase();
  const m = MAPPED_IPV4.exec(text) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (m) {
    const hi = parseInt(m[1]!, 16);
    const lo = parseInt(m[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text;
}

/**
 * The client's address: the TCP peer, or with `trustedHops` > 0 the entry of X-Forwarded-For that
 * the outermost trusted proxy appended. A header with fewer entries than trusted hops means a
 * request that did not come through all of them: the leftmost entry is the best there is.
 */
export function clientAddress(peer: string, forwardedFor: string, trustedHops: number): string {
  if (trustedHops <= 0 || !forwardedFor) return normalizeAddress(peer);
  const hops = forwardedFor.split(',').map((s) => s.trim()).filter(Boolean);
  if (hops.length === 0) return normalizeAddress(peer);
  return normalizeAddress(hops[Math.max(0, hops.length - trustedHops)]!);
}
