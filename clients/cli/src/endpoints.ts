/**
 * Where the three services are. Each endpoint is taken, in order, from its flag, its
 * environment variable, the session `login` stored, or the default (`make up`'s addresses and
 * the ones `kubectl port-forward` gives in the README).
 */
import type { Endpoints } from '@chat/client-core';
import { UsageError } from './args.ts';

export const DEFAULT_ENDPOINTS: Readonly<Endpoints> = {
  authUrl: 'http://127.0.0.1:5001',
  chatUrl: 'http://127.0.0.1:5002',
  gatewayUrl: 'ws://127.0.0.1:5003',
};

const SOURCES = {
  authUrl: { flag: 'auth', env: 'CHAT_AUTH_URL', protocols: ['http:', 'https:'] },
  chatUrl: { flag: 'chat', env: 'CHAT_CHAT_URL', protocols: ['http:', 'https:'] },
  gatewayUrl: { flag: 'gateway', env: 'CHAT_GATEWAY_URL', protocols: ['ws:', 'wss:'] },
} as const;

export interface EndpointFlags {
  auth?: string;
  chat?: string;
  gateway?: string;
}

export function resolveEndpoints(flags: EndpointFlags, env: Record<string, string | undefined>, stored?: Endpoints): Endpoints {
  const out = {} as Endpoints;
  for (const key of Object.keys(SOURCES) as (keyof Endpoints)[]) {
    const src = SOURCES[key];
    const fromFlag = flags[src.flag];
    const fromEnv = env[src.env] || undefined;
    const raw = fromFlag ?? fromEnv ?? stored?.[key] ?? DEFAULT_ENDPOINTS[key];
    const origin = fromFlag !== undefined ? `--${src.flag}` : fromEnv !== undefined ? src.env : stored?.[key] !== undefined ? 'the stored session' : 'the default';
    out[key] = normalize(raw, src.protocols, origin);
  }
  return out;
}

function normalize(raw: string, protocols: readonly string[], origin: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${origin}: "${raw}" is not a URL (for example ${protocols[0]}//127.0.0.1:5001)`);
  }
  // http(s) for the gateway is an easy slip (port-forward prints http); it is the same server.
  if (protocols.includes('ws:') && (url.protocol === 'http:' || url.protocol === 'https:')) url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (!protocols.includes(url.protocol)) throw new UsageError(`${origin}: "${raw}" must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  if (url.search || url.hash || url.username || url.password) throw new UsageError(`${origin}: "${raw}" must be a plain address (no query, fragment or credentials)`);
  return url.href.replace(/\/$/, '');
}
