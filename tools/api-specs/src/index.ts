/**
 * @chat/api-specs — the tooling of api/openapi.yaml, api/asyncapi.yaml and the Postman
 * collection: reading and compiling the specs, validating them against their meta-schemas,
 * generating the collection, and running it with newman. The checks themselves are in
 * tests/system (api-*.test.ts) and beside this code.
 */
export * from './specs.js';
export * from './validate-documents.js';
export * from './postman-collection.js';
export * from './run-collection.js';
