import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOriginPolicy } from './origin-policy.js';

describe('origin policy', () => {
  it('allows every origin when the list is empty or has *', () => {
    assert.equal(createOriginPolicy([])('https://evil.example'), true);
    assert.equal(createOriginPolicy(['*'])('https://evil.example'), true);
  });

  it('allows only listed origins, case- and trailing-slash-insensitively', () => {
    const allowed = createOriginPolicy(['https://app.example.com/', 'http://localhost:3000']);
    assert.equal(allowed('https://APP.example.com'), true);
    assert.equal(allowed('http://localhost:3000'), true);
    assert.equal(allowed('https://evil.example'), false);
    assert.equal(allowed('https://app.example.com.evil.example'), false);
    assert.equal(allowed('null'), false);
  });

  it('allows a request without Origin (not a browser, so not cross-site)', () => {
    assert.equal(createOriginPolicy(['https://app.example.com'])(''), true);
  });
});
