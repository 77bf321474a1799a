import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { repoRoot } from './paths.js';

let validator: ValidateFunction | undefined;

/** Validates a JSON report against the published schema; returns readable errors. */
export function reportSchemaErrors(report: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(repoRoot, 'schema', 'report.schema.json'), 'utf8'));
    validator = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
  }
  return validator(report) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
