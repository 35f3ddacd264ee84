import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactText } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ service: 'test', level: 'info', destination }) };
}

test('secrets are redacted at any depth, in URLs and in messages', () => {
  const { lines, logger } = capture();
  logger.info(
    {
      password: 'hunter22hunter22',
      req: { headers: { Authorization: 'Bearer abc.def.ghi', host: 'x' }, url: '/?token=eyJhbGciOiJFUzI1NiJ9.e30.sig&since=abc' },
      nested: { deeper: [{ token: 'tok-123' }] },
    },
    'login with password=hunter22hunter22 and Bearer abc.def.ghi',
  );
  const line = lines.join('');
  for (const secret of ['hunter22hunter22', 'abc.def.ghi', 'eyJhbGciOiJFUzI1NiJ9', 'tok-123']) {
    assert.ok(!line.includes(secret), `log line leaks ${secret}: ${line}`);
  }
  const parsed = JSON.parse(line);
  assert.equal(parsed.service, 'test');
  assert.equal(parsed.req.headers.host, 'x');
  assert.match(parsed.req.url, /since=abc/);
});

test('errors keep their message and stack, minus secrets', () => {
  const { lines, logger } = capture();
  logger.error({ err: new Error('fetch /x?token=secret-value failed') }, 'boom');
  const parsed = JSON.parse(lines[0]!);
  assert.match(parsed.err.message, /failed/);
  assert.ok(!lines[0]!.includes('secret-value'));
});

test('redactText leaves ordinary text alone', () => {
  assert.equal(redactText('GET /chat/history?with=bob&limit=5'), 'GET /chat/history?with=bob&limit=5');
});
