/** npm run docs — writes docs/rules/<id>.md for every registered rule. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rules } from '../src/rules/index.js';
import { renderRuleDoc } from '../src/rules/docs.js';
import { repoRoot } from '../test/helpers/paths.js';

const dir = join(repoRoot, 'docs', 'rules');
mkdirSync(dir, { recursive: true });
for (const rule of rules) writeFileSync(join(dir, `${rule.meta.id}.md`), renderRuleDoc(rule.meta));
console.log(`wrote ${rules.length} rule pages to ${dir}`);
