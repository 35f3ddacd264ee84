import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEYS = new Set(['authorization', 'password', 'token', 'cookie', 'set-cookie', 'secret', 'privatekey']);
const REDACTED = '[REDACTED]';
// `token=...`, `password=...` in query strings, and bearer credentials inside free text.
const SECRET_IN_TEXT = /((?:^|[?&\s"'])(?:token|access_token|password|authorization)=)[^&\s"']*/gi;
const BEARER_IN_TEXT = /(bearer\s+)[A-Za-z0-9\-_.~+/]+=*/gi;

export function redactText(text: string): string {
  return text.replace(SECRET_IN_TEXT, `$1${REDACTED}`).replace(BEARER_IN_TEXT, `$1${REDACTED}`);
}

/**
 * Deep copy with secrets removed. pino's own `redact` needs every path spelled out and has
 * no recursive wildcard; secrets must go wherever they appear, so we walk the object.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (depth > 8) return value;
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: redactText(value.message), stack: value.stack ? redactText(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactDeep(v, depth + 1);
  }
  return out;
}

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ service, level = 'info', destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => redactDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      // The message string is not passed through `formatters.log`; scrub it here.
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as typeof args;
        method.apply(this, redacted);
      },
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
