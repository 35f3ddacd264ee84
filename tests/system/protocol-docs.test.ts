// PROTOCOL.md, the README's gateway table and the gateway README's metrics line document exactly
// the frame types, error codes and close codes of the protocol's tables: nothing missing, nothing extra.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '../../services/common/src/close-codes.ts';
import { CLIENT_FRAME_TYPES, FRAME_ERROR_CODES, SERVER_FRAME_TYPES } from '../../services/common/src/frame-types.ts';
import { SOCKET_CLOSE_LABELS } from '../../services/gateway/src/metrics.ts';
import { readDoc as read, section, sorted, tableBodies } from './markdown.ts';

const protocol = read('services/gateway/PROTOCOL.md');
const readme = read('README.md');
const gatewayReadme = read('services/gateway/README.md');

const all = (text: string, pattern: RegExp, group = 1) => [...text.matchAll(pattern)].map((m) => m[group]!);
const closeRows = Object.entries(CLOSE_CODES).map(([reason, code]) => `${code} ${reason}`);

test('PROTOCOL.md: a section for every server frame type, and for nothing else', () => {
  assert.deepEqual(sorted(all(section(protocol, '## Server → client'), /^### `(\w+)`/gm)), sorted(SERVER_FRAME_TYPES));
});

test('PROTOCOL.md: the client frame table lists every client frame type, and nothing else', () => {
  assert.deepEqual(sorted(all(section(protocol, '## Client → server'), /^\| `\{"type":"(\w+)"/gm)), sorted(CLIENT_FRAME_TYPES));
});

test('PROTOCOL.md: the error frame table lists every error code, and nothing else', () => {
  assert.deepEqual(sorted(all(tableBodies(section(protocol, '### `error` — the socket stays open')), /^\| `(\w+)` \|/gm)), sorted(FRAME_ERROR_CODES));
});

test('PROTOCOL.md: the close-code table lists every close reason with its code, and nothing else', () => {
  const rows = [...section(protocol, '## Close codes').matchAll(/^\| (\d{4}) \| (`(\w+)`|—) \|/gm)];
  assert.deepEqual(sorted(rows.filter((r) => r[3] !== undefined).map((r) => `${r[1]} ${r[3]}`)), sorted(closeRows));
  // A row without a reason is one the gateway never sends: only 1006, which RFC 6455 forbids sending.
  assert.deepEqual(rows.filter((r) => r[3] === undefined).map((r) => r[1]), ['1006']);
});

test('README: the gateway table lists every frame type in its direction, and nothing else', () => {
  const gateway = section(readme, '### Gateway (5003) — frames in [services/gateway/PROTOCOL.md](services/gateway/PROTOCOL.md)');
  const rows = [...gateway.matchAll(/^\| (server → client|client → server) \| `\{"type":"(\w+)"/gm)];
  const of = (direction: string) => sorted(rows.filter((r) => r[1] === direction).map((r) => r[2]!));
  assert.deepEqual(of('server → client'), sorted(SERVER_FRAME_TYPES));
  assert.deepEqual(of('client → server'), sorted(CLIENT_FRAME_TYPES));
  const errorCodes = /"code":((?:"\w+"\|?)+)/.exec(gateway)?.[1] ?? '';
  assert.deepEqual(sorted(all(errorCodes, /"(\w+)"/g)), sorted(FRAME_ERROR_CODES));
});

test('README: the close-code line names every close reason with its code, and nothing else', () => {
  const gateway = section(readme, '### Gateway (5003) — frames in [services/gateway/PROTOCOL.md](services/gateway/PROTOCOL.md)');
  const line = gateway.slice(gateway.indexOf('Close codes'));
  assert.deepEqual(sorted([...line.matchAll(/(\d{4})\s+`(\w+)`/g)].map((m) => `${m[1]} ${m[2]}`)), sorted(closeRows));
});

test('gateway README: the sockets-closed metric lists every close reason as a label, and nothing else', () => {
  const labels = /gateway_sockets_closed_total\{reason=([\w|]+)\}/.exec(gatewayReadme)?.[1] ?? '';
  assert.deepEqual(sorted(labels.split('|')), sorted(SOCKET_CLOSE_LABELS));
});
