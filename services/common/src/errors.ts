import type { ErrorCode, ErrorCodeWithStatus } from './error-codes.js';

/** The one error shape every service answers with: {"error":{"code","message"}}. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

/**
 * A failure the client can act on. Anything thrown that is not a RequestError is a bug and
 * becomes a 500 with a generic message (the stack goes to the log, not to the client).
 */
export class RequestError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  readonly details: unknown;

  constructor(status: number, code: ErrorCode, message: string, opts: { headers?: Record<string, string>; details?: unknown } = {}) {
    super(message);
    this.name = 'RequestError';
    this.status = status;
    this.code = code;
    this.headers = opts.headers ?? {};
    this.details = opts.details;
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.details);
  }
}

export const invalidRequest = (message: string) => new RequestError(400, 'invalid_request', message);
export const unauthorized = (message = 'missing or invalid token') => new RequestError(401, 'unauthorized', message);
export const notFound = (code: ErrorCodeWithStatus<404>, message: string) => new RequestError(404, code, message);
export const unavailable = (message = 'a dependency is unavailable, retry shortly') => new RequestError(503, 'unavailable', message);
export const forbidden = (message: string) => new RequestError(403, 'forbidden', message);
