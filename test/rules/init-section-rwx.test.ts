import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFixture, readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';

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
