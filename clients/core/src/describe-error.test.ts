import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, UnreachableError } from './api.ts';
import { describeError } from './describe-error.ts';

test('each refusal a person meets has its own words', () => {
  assert.equal(describeError(new ApiError(401, 'invalid_credentials', 'invalid username or password')).message, 'Wrong username or password.');
  assert.equal(describeError(new ApiError(404, 'user_not_found', 'no such user')).message, 'There is no user with that name.');
  assert.equal(describeError(new ApiError(409, 'username_taken', 'taken')).message, 'That username is taken. Pick another one.');
});

test('rate limiting says how long to wait', () => {
  assert.equal(describeError(new ApiError(429, 'too_many_attempts', 'x', 42)).message, 'Too many attempts. Try again in 42 seconds.');
  assert.equal(describeError(new ApiError(429, 'too_many_attempts', 'x', 300)).message, 'Too many attempts. Try again in 5 minutes.');
  assert.equal(describeError(new ApiError(429, 'rate_limited', 'x')).message, 'Too many attempts. Try again later.');
});

test("Auth's address rate and bcrypt bound say which it is, with the wait", () => {
  assert.equal(describeError(new ApiError(429, 'too_many_requests', 'x', 7)).message, 'Too many logins or sign-ups from your network address. Try again in 7 seconds.');
  assert.equal(describeError(new ApiError(429, 'too_many_requests', 'x', 3600)).message, 'Too many logins or sign-ups from your network address. Try again in 60 minutes.');
  assert.equal(describeError(new ApiError(503, 'unavailable', 'busy', 1)).message, 'The service is busy right now. Try again in 1 second.');
  // Without Retry-After a 503 is an outage of unknown length.
  assert.equal(describeError(new ApiError(503, 'unavailable', 'down')).message, 'The service is unavailable right now. Try again in a moment.');
});

test('a text over the limit is "too long"; an empty one keeps the server\'s rule', () => {
  const err = new ApiError(400, 'invalid_request', 'text must be 1 to 4000 characters long');
  assert.equal(describeError(err, { text: 'x'.repeat(4001) }).message, 'That message is too long (at most 4,000 characters).');
  assert.equal(describeError(err, { text: '' }).message, 'Text must be 1 to 4000 characters long.');
});

test('a 401 on anything but login is an expired session', () => {
  const d = describeError(new ApiError(401, 'unauthorized', 'token expired'));
  assert.equal(d.kind, 'session_expired');
  assert.equal(d.message, 'Your session has expired. Please log in again.');
});

test('no answer at all says the server cannot be reached', () => {
  const d = describeError(new UnreachableError('http://127.0.0.1:5002', 'ECONNREFUSED'));
  assert.equal(d.kind, 'unreachable');
  assert.match(d.message, /Cannot reach the server \(http:\/\/127\.0\.0\.1:5002\)/);
});

test('group refusals: not a member (or no such group) and not allowed by the role', () => {
  assert.equal(describeError(new ApiError(404, 'conversation_not_found', 'no such conversation')).message, 'There is no such conversation, or you are not in it.');
  assert.equal(describeError(new ApiError(403, 'forbidden', 'only the owner')).message, 'Your role in this group does not allow that.');
});
