/**
 * The two documents against their specifications' own meta-schemas: OpenAPI 3.1 with
 * @seriousme/openapi-schema-validator (it validates 3.1 against the official 3.1 schema, with
 * $refs resolved; @readme/openapi-parser's 3.1 support is a JSON Schema check only), AsyncAPI
 * 3.0 with @asyncapi/parser, the reference parser (its JSON schema and its rules).
 */
import { Parser } from '@asyncapi/parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { loadOpenApi, readAsyncApiText } from './specs.js';

export interface DocumentCheck {
  version: string;
  errors: string[];
}

export async function validateOpenApiDocument(): Promise<DocumentCheck> {
  const validator = new Validator();
  const result = await validator.validate(loadOpenApi() as unknown as Parameters<Validator['validate']>[0]);
  const errors = result.valid ? [] : (Array.isArray(result.errors) ? result.errors : [result.errors]).map((e) => JSON.stringify(e));
  return { version: validator.version, errors };
}

/** Error-level diagnostics only (severity 0); warnings and hints are style advice. */
export async function validateAsyncApiDocument(): Promise<DocumentCheck> {
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(readAsyncApiText());
  const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
  return { version: document?.version() ?? 'unparsed', errors };
}
