import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';

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
