/**
 * Every `error.code` the services answer an HTTP request with, its status, and what it means.
 * RequestError and its helpers accept only these codes, so a typo fails typecheck. The README's
 * error-code table and the codes the service READMEs name are checked against this table
 * (tests/system/error-codes-docs.test.ts). Plain data with no imports, so a client can share it.
 * (The codes of the gateway's `error` frames are in frame-types.ts: they are not HTTP answers.)
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, meaning: 'a field, parameter or body breaks a rule; the message names it' },
  invalid_json: { status: 400, meaning: 'the body is not valid JSON' },
  invalid_body: { status: 400, meaning: 'the body does not match its `Content-Encoding`' },
  request_aborted: { status: 400, meaning: 'the client aborted the request while its body was being read' },
  unauthorized: { status: 401, meaning: 'the bearer token is missing, malformed, badly signed, expired or not for this audience' },
  invalid_credentials: { status: 401, meaning: 'unknown username or wrong password (one answer for both)' },
  forbidden: { status: 403, meaning: "the caller's role in the group does not allow this change" },
  forbidden_origin: { status: 403, meaning: "the gateway's upgrade came from an `Origin` outside `ALLOWED_ORIGINS`" },
  not_found: { status: 404, meaning: 'no such route' },
  user_not_found: { status: 404, meaning: 'no user by that name' },
  conversation_not_found: { status: 404, meaning: 'no such conversation, or the caller is not in it (the same answer for both)' },
  method_not_allowed: { status: 405, meaning: 'the route exists, but not for this method' },
  username_taken: { status: 409, meaning: 'the username is registered already, in some letter case' },
  payload_too_large: { status: 413, meaning: 'the body is over `BODY_LIMIT_BYTES`' },
  unsupported_media_type: { status: 415, meaning: 'the body is not `application/json`, or its encoding or charset is unsupported' },
  idempotency_conflict: { status: 422, meaning: 'the `clientMsgId` was used by this sender for a different recipient or text' },
  upgrade_required: { status: 426, meaning: "a plain HTTP request to the gateway's WebSocket endpoint" },
  too_many_attempts: { status: 429, meaning: 'too many failed logins for this username from this address, or the username is in a delay after failures from elsewhere; `Retry-After` says when to try again' },
  too_many_requests: { status: 429, meaning: 'too many logins and registrations, or registrations, from this client address; `Retry-After` says when to try again' },
  too_many_connections: { status: 429, meaning: 'the gateway holds `MAX_SOCKETS_PER_USER` sockets of this user, or `MAX_SOCKETS_PER_ADDRESS` from this address; close one before opening another' },
  internal: { status: 500, meaning: 'a bug: the details are in the log, never in the answer' },
  unavailable: { status: 503, meaning: 'a dependency (database, Auth, key set) is unreachable, the gateway is draining, or Auth is at its bcrypt capacity; retry with backoff (`Retry-After` when given)' },
  not_ready: { status: 503, meaning: '`/readyz`: a check fails or the process is draining; `details.checks` names each check' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose status is `S`, e.g. `ErrorCodeWithStatus<404>` is `'not_found' | 'user_not_found'`. */
export type ErrorCodeWithStatus<S extends number> = { [C in ErrorCode]: (typeof ERROR_CODES)[C]['status'] extends S ? C : never }[ErrorCode];
