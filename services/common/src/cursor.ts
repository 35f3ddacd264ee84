/**
 * A sync cursor: "everything up to and including sequence `seq` of user `userId`'s timeline".
 * Opaque to clients (base64url); it names its user so a foreign cursor is rejected rather than
 * silently reinterpreted.
 */
export interface Cursor {
  userId: string;
  seq: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`c1:${c.userId}:${c.seq}`, 'utf8').toString('base64url');
}

/** The cursor, or undefined when the value is not one of ours. */
export function decodeCursor(value: unknown): Cursor | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const m = /^c1:([^:]{1,100}):(\d{1,15})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!m) return undefined;
  const seq = Number(m[2]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { userId: m[1]!, seq };
}
