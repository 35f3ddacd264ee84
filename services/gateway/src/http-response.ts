import type { HttpResponse } from 'uWebSockets.js';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  426: '426 Upgrade Required',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/**
 * Ends a uWS response with a JSON body. Call it inside `res.cork` when not in the synchronous
 * part of a handler (uWS requires writes after an await to be corked).
 */
export function endJson(res: HttpResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeStatus(STATUS_TEXT[status] ?? `${status} Unknown`);
  for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
  res.writeHeader('content-type', 'application/json; charset=utf-8').writeHeader('cache-control', 'no-store').end(JSON.stringify(body));
}
