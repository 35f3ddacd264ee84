/**
 * What a connection is counted against for MAX_SOCKETS_PER_ADDRESS: the client's IPv4 address,
 * or the /64 of its IPv6 address (one host or home network is routinely given a whole /64, so a
 * per-/128 count would bound nothing). X-Forwarded-For is a header the client writes, so it is
 * believed only as far as TRUST_PROXY_HOPS says proxies of our own appended to it: with n trusted
 * hops the client is the n-th entry from the right (each proxy appends the address it saw), and
 * anything further left is whatever the client claimed. With 0 hops the header is ignored and the
 * TCP peer is the client.
 */

/** uWS gives IPv4 peers of its dual-stack socket as the long IPv4-mapped IPv6 form. */
const MAPPED_IPV4 = /^(?:0{1,4}:){5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$|^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The eight hextets of an IPv6 address in any notation (`::` expanded), or undefined when it is not one. */
function hextets(text: string): string[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail] : head;
  return groups.length === 8 && groups.every((g) => HEXTET.test(g)) ? groups : undefined;
}

/** `0000:…:ffff:7f00:0001` → `127.0.0.1`; an IPv6 address → its /64 (`2001:db8:0:1::/64`); anything else trimmed and lower-cased. */
export function addressKey(address: string): string {
  const text = address.trim().toLowerCase();
  if (text.startsWith('::ffff:') && text.includes('.')) return text.slice(7);
  const mapped = MAPPED_IPV4.exec(text);
  if (mapped) {
    const hi = parseInt(mapped[1] ?? mapped[3]!, 16);
    const lo = parseInt(mapped[2] ?? mapped[4]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const groups = text.includes(':') ? hextets(text) : undefined;
  return groups ? `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64` : text;
}

/**
 * The key the client is counted under (addressKey): of the TCP peer, or with `trustedHops` > 0 of
 * the X-Forwarded-For entry that the outermost trusted proxy appended. A header with fewer entries
 * than trusted hops means a request that did not come through all of them: the leftmost entry is
 * the best there is.
 */
export function clientAddress(peer: string, forwardedFor: string, trustedHops: number): string {
  if (trustedHops <= 0 || !forwardedFor) return addressKey(peer);
  const hops = forwardedFor.split(',').map((s) => s.trim()).filter(Boolean);
  if (hops.length === 0) return addressKey(peer);
  return addressKey(hops[Math.max(0, hops.length - trustedHops)]!);
}
