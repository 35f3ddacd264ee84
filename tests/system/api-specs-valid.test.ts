// Both API documents are valid against their own specifications' meta-schemas: api/openapi.yaml
// as OpenAPI 3.1 (@seriousme/openapi-schema-validator, which validates 3.1 against the official
// 3.1 schema, $refs resolved) and api/asyncapi.yaml as AsyncAPI 3.0 (@asyncapi/parser, the
// reference parser: its schema and its rules; any error-level diagnostic fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAsyncApiDocument, validateOpenApiDocument } from '@chat/api-specs';

test('api/openapi.yaml is a valid OpenAPI 3.1 document', async () => {
  const result = await validateOpenApiDocument();
  assert.equal(result.version, '3.1');
  assert.deepEqual(result.errors, []);
});

test('api/asyncapi.yaml is a valid AsyncAPI 3.0 document', async () => {
  const result = await validateAsyncApiDocument();
  assert.equal(result.version, '3.0.0');
  assert.deepEqual(result.errors, []);
});
