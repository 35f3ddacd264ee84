/**
 * Exit codes, so scripts can branch on what went wrong without reading the words:
 * 0 done, 1 usage, 2 the server refused (or a login is needed), 3 a server could not be
 * reached, 4 anything unexpected (an answer this client does not understand, a file it cannot
 * write, a bug).
 * The words come from core's `describeError`, so the page and the terminal say the same thing.
 */
import { describeError } from '@chat/client-core';
import { UsageError } from './args.ts';
import { StoreFileError } from './session-store.ts';

export const EXIT = { ok: 0, usage: 1, refused: 2, unreachable: 3, unexpected: 4, interrupted: 130 } as const;

/** A failure that already knows its exit code and its words. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const notLoggedIn = () => new CliError(EXIT.refused, 'You are not logged in. Log in first: pnpm chat login <username>');

export function toCliError(err: unknown, context: { text?: string } = {}): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof UsageError) return new CliError(EXIT.usage, err.message);
  if (err instanceof StoreFileError) return new CliError(EXIT.refused, `The stored session cannot be read (${err.message}). Please log in again.`);
  const d = describeError(err, context);
  const code = d.kind === 'unreachable' ? EXIT.unreachable : d.kind === 'unexpected' ? EXIT.unexpected : EXIT.refused;
  return new CliError(code, d.message);
}
