import type { Middleware } from 'koa';
import type { VarSpec } from './env-config.js';

/** What a browser page may send: every route's methods, and the two headers our API reads. */
export const CORS_ALLOW_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS';
export const CORS_ALLOW_HEADERS = 'authorization, content-type';
/** Browsers cap this anyway (Chromium at 7200 s); 10 minutes saves most preflights. */
export const CORS_MAX_AGE_SECONDS = 600;
/** Response headers a page may read beyond the CORS-safelisted ones: the wait on a 429. */
export const CORS_EXPOSE_HEADERS = 'Retry-After';

/**
 * Parses one configured origin into the exact string a browser sends in `Origin`
 * (lower-case scheme and host, default port dropped). Anything that is not a bare
 * http(s) origin is refused, and so is any wildcard: the list is an allowlist of exact pages,
 * never a pattern, so a typo cannot open the API to every site.
 */
export function parseCorsOrigin(raw: string): string {
  const entry = raw.trim();
  if (entry.includes('*')) throw new Error(`must list exact origins; "${entry}" is a wildcard, and nothing may be open to every origin`);
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new Error(`"${entry}" is not an origin (scheme://host[:port])`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${entry}" must use http:// or https://`);
  // An origin has no path, query, fragment or credentials. A lone trailing slash is tolerated
  // (copied from an address bar), anything more is probably a page URL pasted by mistake.
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/' || /[?#]/.test(entry)) {
    throw new Error(`"${entry}" must be an origin only (scheme://host[:port]), without path, query or credentials`);
  }
  return url.origin;
}

/**
 * CORS_ORIGINS: a comma-separated list of exact origins. Empty (the default) sends no CORS
 * headers at all, so only same-origin pages and non-browser clients can use the API.
 */
export function corsOriginsSpec(): VarSpec<string[]> {
  return {
    doc: 'comma-separated exact origins (scheme://host[:port]) that browsers may call from; empty: none',
    default: [],
    parse(raw) {
      const entries = raw.split(',').map((s) => s.trim()).filter(Boolean);
      return [...new Set(entries.map(parseCorsOrigin))];
    },
  };
}

/**
 * CORS for the pages listed in `allowedOrigins` (already parsed by corsOriginsSpec).
 *
 * createKoaApp puts it outside the error handler and before every router: a preflight is
 * answered here with 204, so it never reaches the routers' unknown-method handling (which would
 * answer 405/501 in the envelope and fail the browser's check). Headers for an allowed origin
 * are set before `next()`, and the error handler only adds to them, so error envelopes (4xx,
 * 429 with Retry-After, even a 500) carry them too and the page can read them. A disallowed origin gets no Access-Control-* header: the
 * server answers as usual and the browser withholds the response from the page. No credentials
 * mode: tokens travel in the Authorization header, never in cookies.
 */
export function koaCors(allowedOrigins: readonly string[]): Middleware {
  const allowed = new Set(allowedOrigins);
  return async (ctx, next) => {
    if (allowed.size === 0) return next();
    // The answer depends on Origin for every request once a list is configured, so shared
    // caches must key on it: otherwise a response cached for one page is served to another.
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    const isAllowed = origin !== '' && allowed.has(origin);
    const isPreflight = ctx.method === 'OPTIONS' && origin !== '' && ctx.get('access-control-request-method') !== '';
    if (isPreflight) {
      ctx.status = 204;
      if (isAllowed) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
        ctx.set('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
        ctx.set('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
      }
      return;
    }
    if (isAllowed) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
    }
    return next();
  };
}
