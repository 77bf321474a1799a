import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderRuleDoc } from '../../src/rules/docs.js';
import { RULE_IDS } from '../../src/rules/ids.js';
import { rules } from '../../src/rules/index.js';
import { repoRoot } from '../helpers/paths.js';

const ruleBook = readFileSync(join(repoRoot, '..', 'shared', 'spec', 'hvci-rules.md'), 'utf8');

describe('rule registry', () => {
  it('is sorted by id and has no duplicates', () => {
    const ids = rules.map((r) => r.meta.id);
    assert.deepEqual(ids, [...new Set(ids)].sort());
  });
  it('has exactly the ids of the RuleId type (src/rules/ids.ts)', () => {
    assert.deepEqual(
      rules.map((r) => r.meta.id),
      [...RULE_IDS],
    );
  });
  for (const { meta } of rules) {
    describe(meta.id, () => {
      it('uses a rule id from the rule book, or is an hvci note that says it is not', () => {
        // Ids appear as `code` in the rule text or as a row of the §9 summary table.
        const inBook =
          ruleBook.includes(`\`${meta.id}\``) ||
          ruleBook.includes(`| ${meta.id} |`) ||
          // Issue 9 names this id for the rule book's §7 "Vulnerable driver blocklist" paragraph.
          (meta.id === 'vulnerable-driver-blocklist' && ruleBook.includes('**Vulnerable driver blocklist**'));
        if (inBook) return;
        // hvci's own notes (what it could not check, information): never errors or warnings,
        // and their docs say where they stand.
        assert.equal(meta.defaultSeverity, 'note', `${meta.id} is not in ../shared/spec/hvci-rules.md`);
        assert.match(meta.docs.ruleBook, /^not in the rule book/, `${meta.id} is not in ../shared/spec/hvci-rules.md`);
      });
      it('lives in src/rules/<id>.ts and has a test file', () => {
        assert.ok(existsSync(join(repoRoot, 'src', 'rules', `${meta.id}.ts`)));
        assert.ok(existsSync(join(repoRoot, 'test', 'rules', `${meta.id}.test.ts`)), 'missing test/rules/<id>.test.ts');
      });
      it('has an up-to-date docs/rules page (npm run docs)', () => {
        const path = join(repoRoot, 'docs', 'rules', `${meta.id}.md`);
        assert.ok(existsSync(path), 'run npm run docs');
        assert.equal(readFileSync(path, 'utf8'), renderRuleDoc(meta), 'docs out of date: run npm run docs');
      });
      it('has complete documentation', () => {
        for (const key of ['title', 'description', 'resolution', 'ruleBook'] as const) assert.ok(meta.docs[key].length > 10, key);
        assert.ok(Object.keys(meta.messages).length > 0);
      });
    });
  }
});
