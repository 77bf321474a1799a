import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from '../../src/index.js';
import { fixtureBytes, readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, built, ruleTester } from '../helpers/rule-tester.js';

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

// Valid and invalid cases; IAT places as llvm-readobj measured them. Without directory 12 the
// rule falls back to the import descriptors' FirstThunk arrays (a warning).
const iatFile = 'iat_in_text.x64.mingw.sys';
function withoutIatDirectory(): Uint8Array {
  const bytes = fixtureBytes(iatFile).slice();
  const dv = new DataView(bytes.buffer);
  const optional = dv.getUint32(0x3c, true) + 24;
  const directories = optional + (dv.getUint16(optional, true) === 0x20b ? 112 : 96);
  dv.setBigUint64(directories + 12 * 8, 0n, true);
  return bytes;
}
ruleTester(ruleById('iat-in-executable-section'), {
  valid: [bin('image/bin/clean_driver.x64.mingw.sys'), bin('image/bin/clean_driver.x86.clang.sys'), bin('arm64/bin/clean_driver.arm64.clang.sys')],
  invalid: [
    { input: bin(`image/bin/${iatFile}`), findings: [{ messageId: 'iat', rva: readobj(iatFile).iatRva, section: '.text', severity: 'error' }] },
    {
      input: built(`${iatFile} with directory 12 zeroed`, withoutIatDirectory),
      findings: [{ messageId: 'firstThunk', rva: readobj(iatFile).imports[0]?.iatRva as number, section: '.text', severity: 'warning' }],
    },
  ],
});
