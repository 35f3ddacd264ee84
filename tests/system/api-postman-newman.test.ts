// The committed Postman collection (api/postman/chat.postman_collection.json, generated from
// api/openapi.yaml) run with newman against a running stack, the same three services `make up`
// runs, started here by startStack: its variables are the stack's URLs and users registered
// here. Every request must get its documented status and a body matching the spec (the
// collection's generated test scripts), with zero failures.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServiceTokenSource } from '@chat/common/jwt';
import { COLLECTION_PATH, openApiOperations, runCollection } from '@chat/api-specs';
import { startStack, uniqueName, type Stack } from '@chat/testkit';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack?.stop());

test('newman runs the Postman collection against the services with zero failures', async () => {
  const [me, peer, third, fourth] = await Promise.all([stack.user('pm'), stack.user('pm'), stack.user('pm'), stack.user('pm')]);
  const collection = JSON.parse(readFileSync(COLLECTION_PATH, 'utf8')) as object;
  const run = await runCollection(collection, {
    authUrl: stack.auth.url,
    chatUrl: stack.chat.url,
    gatewayUrl: stack.gateway.url,
    gatewayMetricsUrl: stack.gateway.metricsUrl,
    userToken: me!.token,
    userId: me!.id,
    serviceToken: await createServiceTokenSource('postman', stack.env.SERVICE_TOKEN_SECRET!)(),
    newUsername: uniqueName('pm'),
    newPassword: 'correct horse battery',
    peerUsername: peer!.username,
    thirdUsername: third!.username,
    fourthUsername: fourth!.username,
  });
  assert.deepEqual(run.failures, []);
  assert.equal(run.requests, openApiOperations().length, 'one request per operation');
  assert.ok(run.assertions >= run.requests * 2, `${run.assertions} assertions for ${run.requests} requests`);
  console.log(`newman: ${run.requests} requests, ${run.assertions} assertions, ${run.failures.length} failures`);
});
