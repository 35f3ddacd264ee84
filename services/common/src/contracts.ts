/**
 * @chat/common/contracts — what the parties agree on: the event published for every stored
 * message, sync cursors, the broker topology, the HTTP error codes and error envelope, the
 * WebSocket protocol's close codes and frame types, the rules the API applies to text and usernames,
 * and the user-token policy. Every service, the benchmark and the browser client import it.
 *
 * Plain data and small functions with no import beyond these files: no package, no `node:`
 * module (the web page bundles it), only Node's `Buffer` global inside the cursor and event
 * functions. Everything else in @chat/common may import from here; nothing here imports from
 * the other entry points.
 */
export * from './events.js';
export * from './signals.js';
export * from './conversation-ids.js';
export * from './cursor.js';
export * from './broker.js';
export * from './error-codes.js';
export * from './errors.js';
export * from './close-codes.js';
export * from './frame-types.js';
export * from './text.js';
export * from './username.js';
export * from './token-policy.js';
