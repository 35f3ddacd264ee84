// api/asyncapi.yaml documents exactly the protocol's tables (frame types in each direction,
// error-frame codes, close codes), the event types of `chat.events` and the signal kinds of
// `chat.ephemeral`; and it agrees with services/gateway/PROTOCOL.md (which protocol-docs.test.ts
// checks against the same tables) and with api/openapi.yaml on the upgrade's answers. A frame,
// code, event or signal added to the code fails here until the spec has it, and the reverse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAsyncApi, loadOpenApi, openApiOperations, resolvePointer, type Json, type JsonObject } from '@chat/api-specs';
import { CLOSE_CODES } from '../../services/common/src/close-codes.ts';
import { EVENT_TYPES } from '../../services/common/src/events.ts';
import { CLIENT_FRAME_TYPES, FRAME_ERROR_CODES, SERVER_FRAME_TYPES } from '../../services/common/src/frame-types.ts';
import { SIGNAL_KINDS } from '../../services/common/src/signals.ts';
import { readDoc, section, sorted, tableBodies } from './markdown.ts';

const spec = loadAsyncApi();
const protocol = readDoc('services/gateway/PROTOCOL.md');

/** The messages an operation lists, each resolved to its component. */
function messagesOf(operationId: string): JsonObject[] {
  const operation = (spec.operations as Record<string, JsonObject>)[operationId];
  assert.ok(operation, `no operation ${operationId}`);
  return (operation.messages as Array<{ $ref: string }>).map((m) => {
    let node = resolvePointer(spec, m.$ref) as JsonObject;
    while (typeof node.$ref === 'string') node = resolvePointer(spec, node.$ref) as JsonObject;
    return node;
  });
}

/** A payload's `properties.<field>.const` (the `type` of a frame, the `kind` of a signal). */
const constOf = (message: JsonObject, field: string): Json | undefined => {
  let payload = message.payload as JsonObject;
  if (typeof payload.$ref === 'string') payload = resolvePointer(spec, payload.$ref) as JsonObject;
  return ((payload.properties as JsonObject)[field] as JsonObject | undefined)?.const;
};

const closeCodes = () => (spec.channels as { socket: { 'x-close-codes': Array<{ code: number; reason: string }> } }).socket['x-close-codes'];

test('server → client: the frames the gateway sends are exactly SERVER_FRAME_TYPES', () => {
  assert.deepEqual(sorted(messagesOf('sendServerFrames').map((m) => String(constOf(m, 'type')))), sorted(SERVER_FRAME_TYPES));
});

test('client → server: the frames the gateway receives are exactly CLIENT_FRAME_TYPES', () => {
  assert.deepEqual(sorted(messagesOf('receiveClientFrames').map((m) => String(constOf(m, 'type')))), sorted(CLIENT_FRAME_TYPES));
});

test('the error frame’s codes are exactly FRAME_ERROR_CODES', () => {
  const error = messagesOf('sendServerFrames').find((m) => constOf(m, 'type') === 'error')!;
  const code = (((error.payload as JsonObject).properties as JsonObject).error as JsonObject).properties as JsonObject;
  assert.deepEqual(sorted((code.code as JsonObject).enum as string[]), sorted(FRAME_ERROR_CODES));
});

test('close codes: x-close-codes lists exactly CLOSE_CODES, each reason with its code', () => {
  assert.deepEqual(sorted(closeCodes().map((c) => `${c.code} ${c.reason}`)), sorted(Object.entries(CLOSE_CODES).map(([reason, code]) => `${code} ${reason}`)));
});

test('chat.events: the events Chat publishes are exactly EVENT_TYPES, and the channel is the events exchange', () => {
  assert.deepEqual(sorted(messagesOf('publishEvents').map((m) => String(constOf(m, 'type')))), sorted(EVENT_TYPES));
  assert.equal((spec.channels as Record<string, JsonObject>).chatEvents!.address, 'chat.events');
});

test('chat.ephemeral: the signals are exactly SIGNAL_KINDS, published and consumed alike', () => {
  for (const op of ['publishSignals', 'consumeSignals']) {
    assert.deepEqual(sorted(messagesOf(op).map((m) => String(m.name))), sorted(SIGNAL_KINDS), op);
  }
  assert.equal((spec.channels as Record<string, JsonObject>).signals!.address, 'chat.ephemeral');
});

test('PROTOCOL.md and asyncapi.yaml: the same server frames, client frames, error codes and close codes', () => {
  const all = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]!);
  assert.deepEqual(sorted(all(section(protocol, '## Server → client'), /^### `(\w+)`/gm)), sorted(messagesOf('sendServerFrames').map((m) => String(constOf(m, 'type')))));
  assert.deepEqual(sorted(all(section(protocol, '## Client → server'), /^\| `\{"type":"(\w+)"/gm)), sorted(messagesOf('receiveClientFrames').map((m) => String(constOf(m, 'type')))));
  const error = messagesOf('sendServerFrames').find((m) => constOf(m, 'type') === 'error')!;
  const errorCodes = ((((error.payload as JsonObject).properties as JsonObject).error as JsonObject).properties as JsonObject).code as JsonObject;
  assert.deepEqual(sorted(all(tableBodies(section(protocol, '### `error` — the socket stays open')), /^\| `(\w+)` \|/gm)), sorted(errorCodes.enum as string[]));
  const rows = [...section(protocol, '## Close codes').matchAll(/^\| (\d{4}) \| (?:`(\w+)`|—) \|/gm)];
  assert.deepEqual(sorted(rows.filter((r) => r[2]).map((r) => `${r[1]} ${r[2]}`)), sorted(closeCodes().map((c) => `${c.code} ${c.reason}`)));
  const abnormal = (spec.channels as { socket: { 'x-abnormal-closes': Array<{ code: number }> } }).socket['x-abnormal-closes'];
  assert.deepEqual(rows.filter((r) => !r[2]).map((r) => Number(r[1])), abnormal.map((c) => c.code));
});

test("PROTOCOL.md's refused-upgrade table and openapi.yaml's websocketUpgrade agree on every status and code", () => {
  const rows = [...tableBodies(section(protocol, '## Connecting')).matchAll(/^\| (\d{3}) \| `(\w+)` \|/gm)].map((r) => `${r[1]} ${r[2]}`);
  const upgrade = openApiOperations(loadOpenApi()).find((op) => op.operationId === 'websocketUpgrade')!;
  const documented = Object.entries(upgrade.responses)
    // 426 answers a plain GET, which is not an upgrade: PROTOCOL.md is about upgrades.
    .filter(([status]) => Number(status) >= 400 && status !== '426')
    .map(([status, response]) => {
      const schema = ((response.content as JsonObject)['application/json'] as JsonObject).schema as JsonObject;
      const code = ((((schema.allOf as JsonObject[])[1]!.properties as JsonObject).error as JsonObject).properties as JsonObject).code as JsonObject;
      return `${status} ${String(code.const)}`;
    });
  assert.deepEqual(sorted(rows), sorted(documented));
});
