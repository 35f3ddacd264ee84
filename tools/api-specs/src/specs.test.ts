import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedErrorCodes, compileSchema, createAjv, dereference, openApiOperations, resolvePointer, type JsonObject } from './specs.js';

const doc: JsonObject = {
  components: {
    schemas: {
      Code: { type: 'string', enum: ['a', 'b', 'c'] },
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code'], properties: { code: { $ref: '#/components/schemas/Code' } } } } },
      OnlyB: { $ref: '#/components/schemas/Error', properties: { error: { properties: { code: { const: 'b' } } } } },
      'a/b': { const: 1 },
    },
  },
};

test('resolvePointer: follows a local $ref, ~1 included', () => {
  assert.deepEqual(resolvePointer(doc, '#/components/schemas/a~1b'), { const: 1 });
  assert.throws(() => resolvePointer(doc, '#/components/schemas/missing'), /points at nothing/);
});

test('dereference: a $ref with sibling keywords is both (allOf), so a narrowing holds', () => {
  const ajv = createAjv();
  const validate = compileSchema(ajv, doc, { $ref: '#/components/schemas/OnlyB' });
  assert.equal(validate({ error: { code: 'b' } }), true);
  assert.equal(validate({ error: { code: 'a' } }), false);
  assert.deepEqual(acceptedErrorCodes(validate, ['a', 'b', 'c', 'zz']), ['b']);
  assert.ok(!JSON.stringify(dereference(doc, doc.components)).includes('$ref'));
});

test('openApiOperations: the real spec lists operations with their services and resolved responses', () => {
  const ops = openApiOperations();
  const send = ops.find((op) => op.operationId === 'sendMessage');
  assert.ok(send);
  assert.deepEqual(send.services, ['chat']);
  assert.ok(!JSON.stringify(send.responses).includes('#/components/responses'));
  assert.deepEqual(ops.find((op) => op.operationId === 'healthz')?.services, ['auth', 'chat', 'gateway']);
  assert.equal(new Set(ops.map((op) => op.operationId)).size, ops.length, 'operationIds are unique');
});
