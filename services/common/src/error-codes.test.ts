import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, type ErrorCodeWithStatus } from './error-codes.js';
import { invalidRequest, notFound, RequestError, unauthorized, unavailable } from './errors.js';

test('every code is snake_case with a 4xx or 5xx status and a one-line meaning', () => {
  for (const [code, { status, meaning }] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/, code);
    assert.ok(status >= 400 && status <= 599, `${code}: ${status}`);
    assert.ok(meaning.length > 0 && !meaning.includes('\n'), code);
  }
});

test('the helpers answer with the status the table gives their code', () => {
  for (const err of [invalidRequest('x'), unauthorized(), notFound('user_not_found', 'x'), notFound('not_found', 'x'), unavailable()]) {
    assert.equal(err.status, ERROR_CODES[err.code].status, err.code);
  }
});

test('a code outside the table does not typecheck', () => {
  // Type-level checks: `tsc -p tsconfig.check.json` fails when one of these lines compiles.
  const typos = () => [
    // @ts-expect-error a typo
    new RequestError(400, 'invalid_requets', 'x'),
    // @ts-expect-error notFound takes only the 404 codes
    notFound('username_taken', 'x'),
  ];
  const notFoundCodes: Array<ErrorCodeWithStatus<404>> = ['not_found', 'user_not_found'];
  assert.equal(typeof typos, 'function');
  assert.deepEqual(notFoundCodes.map((code) => ERROR_CODES[code].status), [404, 404]);
});
