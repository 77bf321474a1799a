import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from '../../src/index.js';
import { fixtureBytes, readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';

const X = 0x20000000;

describe('iat-in-executable-section', () => {
  fixtureCases('iat-in-executable-section', (file, findings) => {
    const facts = readobj(file);
    const holder = facts.sections.find(
      (s) => facts.iatRva >= s.virtualAddress && facts.iatRva < s.virtualAddress + s.virtualSize,
    );
    assert.ok(holder && (holder.characteristics & X) !== 0, 'fixture IAT really is in an X section');
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.messageId, 'iat');
    assert.equal(findings[0]?.severity, 'error');
    assert.equal(findings[0]?.rva, facts.iatRva);
    assert.equal(findings[0]?.section, holder.name);
  });

  // Edge cases of the definition: the section's virtual extent decides, not its raw size.
  const file = 'iat_in_text.x64.clang.sys';
  const facts = readobj(file);
  const text = facts.sections.find((s) => (s.characteristics & X) !== 0)!;

  function withTextHeader(edit: (dv: DataView, header: number) => void): Uint8Array {
    const bytes = fixtureBytes(file).slice();
    const dv = new DataView(bytes.buffer);
    const pe = dv.getUint32(0x3c, true);
    const table = pe + 24 + dv.getUint16(pe + 20, true);
    const index = facts.sections.indexOf(text);
    edit(dv, table + 40 * index);
    return bytes;
  }

  it('flags an IAT that lies past SizeOfRawData but inside VirtualSize', () => {
    const bytes = withTextHeader((dv, h) => dv.setUint32(h + 16, Math.max(0, facts.iatRva - text.virtualAddress - 0x10) & ~0x1ff, true));
    const f = analyze(bytes).findings.filter((x) => x.ruleId === 'iat-in-executable-section');
    assert.equal(f.length, 1);
  });

  it('does not flag an IAT inside the raw data but past VirtualSize', () => {
    const bytes = withTextHeader((dv, h) => dv.setUint32(h + 8, facts.iatRva - text.virtualAddress, true));
    const f = analyze(bytes).findings.filter((x) => x.ruleId === 'iat-in-executable-section');
    assert.deepEqual(f, []);
  });
});
