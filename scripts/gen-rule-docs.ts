/** npm run docs — writes docs/rules/<id>.md for every registered rule, schema/config.schema.json and the config validator. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rules } from '../src/rules/index.js';
import { renderRuleDoc } from '../src/rules/docs.js';
import { CONFIG_SCHEMA } from '../src/config/schema.js';
import { repoRoot } from '../test/helpers/paths.js';
import { configValidatorSource } from './config-validator.js';

const dir = join(repoRoot, 'docs', 'rules');
mkdirSync(dir, { recursive: true });
for (const rule of rules) writeFileSync(join(dir, `${rule.meta.id}.md`), renderRuleDoc(rule.meta));
console.log(`wrote ${rules.length} rule pages to ${dir}`);
// The config schema for editors, from the one the CLI validates with.
writeFileSync(join(repoRoot, 'schema', 'config.schema.json'), JSON.stringify(CONFIG_SCHEMA, null, 2) + '\n');
console.log('wrote schema/config.schema.json');
writeFileSync(join(repoRoot, 'src', 'config', 'validate-config.generated.ts'), configValidatorSource());
console.log('wrote src/config/validate-config.generated.ts');
