import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, ruleTester } from '../helpers/rule-tester.js';
import { measured } from '../helpers/oracles.js';

const W = 0x80000000;
const X = 0x20000000;

describe('execute-write-section', () => {
  fixtureCases('execute-write-section', (file, findings) => {
    const wx = readobj(file).sections.filter((s) => (s.characteristics & W) !== 0 && (s.characteristics & X) !== 0);
    assert.deepEqual(findings.map((f) => f.section), wx.map((s) => s.name));
    for (const [i, f] of findings.entries()) {
      const s = wx[i]!;
      assert.equal(f.severity, 'error');
      assert.equal(f.rva, s.virtualAddress);
      const ev = f.evidence?.section as { characteristics: string; rights: string };
      assert.equal(Number(ev.characteristics), s.characteristics);
      assert.match(ev.rights, /W X$/);
    }
  });
});

// Valid and invalid cases; the W+X sections as llvm-readobj measured them (FIXTURES.tsv), not from hvci.
// Image rules apply to every image: a user-mode DLL and an ARM64 driver are valid, not "not applicable".
ruleTester(ruleById('execute-write-section'), {
  valid: [bin('image/bin/clean_driver.x64.mingw.sys'), bin('image/bin/user_dll.x64.mingw.sys'), bin('arm64/bin/clean_driver.arm64.clang.sys')],
  invalid: [
    ...['wx_section.x64.mingw.sys', 'wx_section.x86.clang.sys'].map((file) => ({
      input: bin(`image/bin/${file}`),
      findings: [{ messageId: 'wx', section: measured(file).wx_sections as string, severity: 'error' as const }],
    })),
    // test/fixtures/arm64/build.sh links .rwx with /SECTION:.rwx,RWE.
    { input: bin('arm64/bin/wx_section.arm64.clang.sys'), findings: [{ messageId: 'wx', section: '.rwx' }] },
  ],
});
