import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import ajvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { repoRoot } from '../helpers/paths.js';

let validator: ValidateFunction | undefined;

/**
 * Validates a SARIF log against the official SARIF 2.1.0 schema kept in
 * schema/sarif-schema-2.1.0.json (a draft-04 schema, hence ajv-draft-04), formats included.
 */
export function sarifSchemaErrors(log: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(repoRoot, 'schema', 'sarif-schema-2.1.0.json'), 'utf8'));
    const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    validator = ajv.compile(schema);
  }
  const validate = validator;
  return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
