/**
 * The API specs as data: api/openapi.yaml and api/asyncapi.yaml read once, their operations and
 * messages listed, and their schemas compiled with ajv. The tests that check the specs against
 * the code and against running services (tests/system) and the Postman generator read them
 * through here, so every reader sees the same document the same way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/** The repository root (this file is tools/api-specs/src/specs.ts). */
export const REPO_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const OPENAPI_PATH = join(REPO_ROOT, 'api', 'openapi.yaml');
export const ASYNCAPI_PATH = join(REPO_ROOT, 'api', 'asyncapi.yaml');

// ajv-formats is CommonJS with a default export; under NodeNext its callable is `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const readOpenApiText = () => readFileSync(OPENAPI_PATH, 'utf8');
export const readAsyncApiText = () => readFileSync(ASYNCAPI_PATH, 'utf8');
export const loadOpenApi = (): JsonObject => parse(readOpenApiText()) as JsonObject;
export const loadAsyncApi = (): JsonObject => parse(readAsyncApiText()) as JsonObject;

/** The value a local `$ref` (`#/a/b~1c`) points at in `doc`. */
export function resolvePointer(doc: Json, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are used in the specs: ${ref}`);
  let node: Json = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`$ref ${ref} points at nothing`);
    node = (node as Record<string, Json>)[key]!;
  }
  return node;
}

/**
 * `node` with every local `$ref` replaced by what it points at, so a schema can be compiled on
 * its own. A `$ref` with sibling keywords (allowed since JSON Schema 2019-09, and used by the
 * error schemas to narrow `code`) becomes `allOf` of the two, which is what it means.
 */
export function dereference(doc: Json, node: Json = doc, seen: readonly string[] = []): Json {
  if (Array.isArray(node)) return node.map((item) => dereference(doc, item, seen));
  if (node === null || typeof node !== 'object') return node;
  const { $ref, ...rest } = node;
  const siblings: JsonObject = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, dereference(doc, v, seen)]));
  if (typeof $ref !== 'string') return siblings;
  if (seen.includes($ref)) throw new Error(`$ref cycle through ${$ref}`);
  const target = dereference(doc, resolvePointer(doc, $ref), [...seen, $ref]);
  const meaningful = Object.keys(siblings).filter((k) => k !== 'description' && k !== 'summary');
  return meaningful.length === 0 ? target : { allOf: [target, siblings] };
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface OpenApiOperation {
  method: string;
  /** The OpenAPI path, e.g. `/users/{username}`. */
  path: string;
  operationId: string;
  /** The services that serve it (`x-service` of the path item: one name, or several). */
  services: string[];
  /** Which of their ports serves it (`x-port` of the path item): the public one, or METRICS_PORT (`/metrics`). */
  port: 'service' | 'metrics';
  /** Status → the response object, `$ref`s resolved. */
  responses: Record<string, JsonObject>;
  operation: JsonObject;
}

/** Every operation of the OpenAPI document, with the services that serve it. */
export function openApiOperations(doc: JsonObject = loadOpenApi()): OpenApiOperation[] {
  const out: OpenApiOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths as JsonObject)) {
    const pathItem = item as JsonObject;
    const service = pathItem['x-service'];
    const services = (Array.isArray(service) ? service : [service]).map(String);
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method] as JsonObject | undefined;
      if (!operation) continue;
      const responses = Object.fromEntries(Object.entries(operation.responses as JsonObject).map(([status, r]) => [status, dereference(doc, r) as JsonObject]));
      const port = pathItem['x-port'] === 'metrics' ? 'metrics' : 'service';
      out.push({ method: method.toUpperCase(), path, operationId: String(operation.operationId), services, port, responses, operation });
    }
  }
  return out;
}

/** An ajv for the specs' schemas: JSON Schema 2020-12 (OpenAPI 3.1's dialect) with formats, all errors. */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

/** A compiled validator for a schema of `doc` (its `$ref`s resolved against `doc`). */
export function compileSchema(ajv: Ajv2020, doc: JsonObject, schema: Json): ValidateFunction {
  return ajv.compile(dereference(doc, schema) as object);
}

/** Readable ajv errors, for assertion messages. */
export function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('; ');
}

/**
 * The `error.code`s a compiled response schema accepts, out of `codes`: found by asking the
 * schema (an envelope with each code), so however the schema narrows `code` (a `const`, an
 * `enum`, an `allOf`), the answer is what it really allows.
 */
export function acceptedErrorCodes(validate: ValidateFunction, codes: readonly string[]): string[] {
  return codes.filter((code) => validate({ error: { code, message: 'probe', details: { checks: { draining: false } } } }));
}
