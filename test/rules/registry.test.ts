import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderRuleDoc } from '../../src/rules/docs.js';
import { RULE_IDS } from '../../src/rules/ids.js';
import { API_TABLE } from '../../src/analysis/api-table.js';
import { ruleById, rules } from '../../src/rules/index.js';
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
      it('lives in src/rules/<id>.ts and has a test file with RuleTester cases', () => {
        assert.ok(existsSync(join(repoRoot, 'src', 'rules', `${meta.id}.ts`)));
        const test = join(repoRoot, 'test', 'rules', `${meta.id}.test.ts`);
        assert.ok(existsSync(test), 'missing test/rules/<id>.test.ts');
        assert.ok(readFileSync(test, 'utf8').includes(`ruleTester(ruleById('${meta.id}'),`), 'no ruleTester(...) cases (test/helpers/rule-tester.ts)');
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

describe('call-site rules and the API table', () => {
  const callRules = new Set(API_TABLE.map((spec) => spec.rule));
  for (const id of callRules) {
    it(`${id}: has the "always" message exactly when the table gives it class D APIs`, () => {
      const classD = API_TABLE.filter((spec) => spec.rule === id && spec.cls === 'D').map((spec) => spec.name);
      assert.equal('always' in ruleById(id).meta.messages, classD.length > 0, classD.join(', '));
    });
  }
});
