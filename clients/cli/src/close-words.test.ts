import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeWords } from './close-words.ts';

test('a refused upgrade is named by its status; 429 says what to do', () => {
  assert.match(closeWords({ code: 1006, reason: '', httpStatus: 429 }), /^The gateway refused the connection: too many open connections .*\(429\); close a listen you no longer need$/);
  assert.equal(closeWords({ code: 1006, reason: '', httpStatus: 503 }), 'The gateway is unavailable right now (503)');
  assert.equal(closeWords({ code: 1006, reason: '', httpStatus: 401 }), 'The gateway refused the connection (401)');
});

test('drops and closes keep their words', () => {
  assert.equal(closeWords(undefined), 'No connection to the gateway');
  assert.equal(closeWords({ code: 1006, reason: '' }), 'No connection to the gateway');
  assert.equal(closeWords({ code: 1012, reason: 'service_restart' }), 'The gateway is restarting');
  assert.equal(closeWords({ code: 1013, reason: 'slow_consumer' }), 'The gateway asked to come back later: slow_consumer');
  assert.equal(closeWords({ code: 1008, reason: 'rate_limited' }), 'The gateway closed the connection (1008: rate_limited)');
});
