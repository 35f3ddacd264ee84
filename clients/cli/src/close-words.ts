/**
 * Why `listen` is not connected, in words, for its "…; trying again in N s." line. A refused
 * upgrade is told apart from a drop because `ws` reports its HTTP status (a browser cannot), and
 * a 429 says what the person can do about it: the gateway counts sockets per user and address.
 */
import type { LiveClose } from '@chat/client-core';

export function closeWords(close: LiveClose | undefined): string {
  if (!close) return 'No connection to the gateway';
  switch (close.httpStatus) {
    case undefined:
      break;
    case 429:
      return 'The gateway refused the connection: too many open connections for this user or address (429); close a listen you no longer need';
    case 503:
      return 'The gateway is unavailable right now (503)';
    default:
      return `The gateway refused the connection (${close.httpStatus})`;
  }
  const reason = close.reason ? `: ${close.reason}` : '';
  switch (close.code) {
    case 1006:
      return 'No connection to the gateway';
    case 1012:
      return 'The gateway is restarting';
    case 1013:
      return `The gateway asked to come back later${reason}`;
    default:
      return `The gateway closed the connection (${close.code}${reason})`;
  }
}
