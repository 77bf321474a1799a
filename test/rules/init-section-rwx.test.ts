import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFixture, readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, ruleTester } from '../helpers/rule-tester.js';
import { measured } from '../helpers/oracles.js';

describe('init-section-rwx', () => {
  fixtureCases('init-section-rwx', (file, findings) => {
    const init = readobj(file).sections.find((s) => s.name === 'INIT');
    assert.ok(init);
    assert.equal((init.characteristics & 0xa0000000) >>> 0, 0xa0000000, 'fixture INIT really is W+X');
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.severity, 'warning');
    assert.equal(findings[0]?.section, 'INIT');
    assert.match(findings[0]?.message ?? '', /strips W from INIT/);
  });

  it('reports an RWX INIT as this warning, never as execute-write-section', () => {
    for (const file of ['init_rwx.x64.mingw.sys', 'init_rwx.x86.clang.sys']) {
      const r = analyzeFixture(file);
      assert.deepEqual(r.findings.filter((f) => f.ruleId === 'execute-write-section'), []);
      assert.equal(r.verdict, 'warnings');
    }
  });
});

// Valid and invalid cases; the RWX INIT section as llvm-readobj measured it (FIXTURES.tsv).
ruleTester(ruleById('init-section-rwx'), {
  valid: [bin('image/bin/init_rx.x64.mingw.sys'), bin('image/bin/clean_driver.x86.clang.sys')],
  invalid: ['init_rwx.x64.mingw.sys', 'init_rwx.x86.clang.sys'].map((file) => ({
    input: bin(`image/bin/${file}`),
    findings: [{ messageId: 'rwx', section: measured(file).wx_sections as string, severity: 'warning' as const }],
  })),
});
