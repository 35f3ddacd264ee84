/**
 * The address a request came from, for limits per client address. X-Forwarded-For is written by
 * whoever sends the request, so it is believed only as far as `trustedProxyHops` says: each proxy
 * we run appends the address it received the request from, so with N trusted proxies in front
 * the client is the N-th entry from the right, and everything left of it may be forged. With 0
 * hops (the default) the header is ignored and the TCP peer is the client.
 *
 * Addresses are reduced to what one client controls: an IPv4-mapped IPv6 address is its IPv4
 * address, and an IPv6 address is its /64 (one host normally holds a whole /64, so a limit per
 * full IPv6 address would be a limit per attacker's choice).
 *
 * One rule for every service: Auth's per-address limits (through Koa's request) and the gateway's
 * MAX_SOCKETS_PER_ADDRESS (through uWS, which gives IPv4 peers of its dual-stack socket in the
 * long IPv4-mapped IPv6 form, `0000:…:ffff:7f00:0001`) count the same client under the same key.
 * Node's `net` only; exported through @chat/common/config.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Every request without a usable address shares this key, so it is still limited. */
export const UNKNOWN_ADDRESS = 'unknown';

export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedProxyHops: number): string {
  if (trustedProxyHops > 0 && forwardedFor !== undefined) {
    const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The entry our outermost trusted proxy appended; fewer entries than hops means the request
    // skipped a proxy, and the leftmost entry is then the best we have (as Koa's maxIpsCount).
    const entry = entries.length > 0 ? entries[Math.max(0, entries.length - trustedProxyHops)] : undefined;
    const fromProxy = entry === undefined ? undefined : addressKey(entry);
    if (fromProxy) return fromProxy;
  }
  return (remoteAddress && addressKey(remoteAddress)) || UNKNOWN_ADDRESS;
}

/** The limit key of one address, or undefined when it is not an IP address. */
export function addressKey(raw: string): string | undefined {
  let address = raw.trim();
  // "[2001:db8::1]:443" and "192.0.2.1:8080", as some proxies write them.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  const groups = ipv6Groups(address);
  // IPv4-mapped in hex (uWS's long form, or `::ffff:7f00:1`): the IPv4 client it is.
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6]!, 16), parseInt(groups[7]!, 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part is the last two groups.
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
