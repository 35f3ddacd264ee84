import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COLLECTION_PATH, generateCollection, serialize } from './postman-collection.js';
import { openApiOperations } from './specs.js';

test('the committed Postman collection is what the generator makes from api/openapi.yaml now (regenerate with --write)', async () => {
  assert.equal(readFileSync(COLLECTION_PATH, 'utf8'), serialize(await generateCollection()));
});

test('the collection has one request per operation, each with a generated test script', async () => {
  const collection = (await generateCollection()) as { item: Array<{ name: string; event: Array<{ script: { exec: string[] } }> }> };
  assert.equal(collection.item.length, openApiOperations().length);
  for (const item of collection.item) assert.ok(item.event[0]!.script.exec.some((line) => line.includes('pm.response.to.have.status')), item.name);
});
