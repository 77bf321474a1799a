/**
 * The config validator the CLI runs is ajv's standalone code for the schema, generated ahead of
 * time (scripts/config-validator.ts) so ajv is not loaded at run time. It must be the code for
 * the current schema, and judge configs as ajv compiling the schema now does.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { CONFIG_SCHEMA } from '../../src/config/schema.js';
import { validate } from '../../src/config/validate-config.generated.js';
import { CONFIG_AJV_OPTIONS, configValidatorSource } from '../../scripts/config-validator.js';
import { repoRoot } from '../helpers/paths.js';

describe('the generated config validator', () => {
  it('is the code ajv makes for the current schema (run npm run docs after changing it)', () => {
    assert.equal(readFileSync(join(repoRoot, 'src/config/validate-config.generated.ts'), 'utf8'), configValidatorSource());
  });
  it('gives the verdicts and errors of ajv compiling the schema at run time', () => {
    const live = new Ajv(CONFIG_AJV_OPTIONS).compile(CONFIG_SCHEMA);
    const generated = validate as ((d: unknown) => boolean) & { errors?: unknown };
    const configs: unknown[] = [
      {},
      { failOn: 'warning', targetOs: 'win11', rules: { 'cr0-write': 'off' }, ignore: ['**/test/*.sys'] },
      { failOn: 'sometimes' },
      { ignore: [''] },
      { ignore: ['\u{1F600}'] }, // one code point in two UTF-16 units: minLength counts code points
      { suppressions: [{ ruleId: 'cr0-write', reason: '' }] },
      { suppressions: [{ ruleId: 'cr0-write' }] },
      { unknownKey: 1 },
      [],
      'text',
    ];
    for (const config of configs) {
      assert.equal(generated(config), live(config), JSON.stringify(config));
      assert.deepEqual(generated.errors ?? null, live.errors ?? null, JSON.stringify(config));
    }
  });
});
