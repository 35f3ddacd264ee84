import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Koa from 'koa';
import { isRetrySafe } from './app.js';

/** Only what isRetrySafe reads of a request: its method, path and parsed body. */
const request = (method: string, path: string, body?: unknown) => ({ method, path, request: { body } }) as unknown as Koa.ParameterizedContext;

describe('isRetrySafe: which requests the answer deadline may end with a 503', () => {
  it('every read', () => {
    assert.equal(isRetrySafe(request('GET', '/chat/sync')), true);
    assert.equal(isRetrySafe(request('GET', '/conversations')), true);
  });

  it('a send with a clientMsgId (its repeat is answered with the original), not one without', () => {
    assert.equal(isRetrySafe(request('POST', '/chat/send', { to: 'bob', text: 'hi', clientMsgId: 'c-1' })), true);
    assert.equal(isRetrySafe(request('POST', '/chat/send', { to: 'bob', text: 'hi' })), false);
    assert.equal(isRetrySafe(request('POST', '/chat/send', { to: 'bob', text: 'hi', clientMsgId: '' })), false);
    assert.equal(isRetrySafe(request('POST', '/chat/send', { to: 'bob', text: 'hi', clientMsgId: 7 })), false);
  });

  it('no other write: a group created twice would be two groups', () => {
    assert.equal(isRetrySafe(request('POST', '/conversations', { name: 'g', members: ['bob'], clientMsgId: 'c-1' })), false);
    assert.equal(isRetrySafe(request('DELETE', '/conversations/c1/members/bob')), false);
  });
});
