/**
 * packed-section: one note per packed-looking executable section instead of code findings.
 * The fixtures and their oracle are in test/fixtures/precision (see also
 * test/analysis/precision.test.ts); here: the threshold and the twins that must not trip it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/analyze.js';
import { entropy, PACKED_ENTROPY, SUSPECT_ENTROPY } from '../../src/analysis/packed.js';
import { parsePe } from '../../src/pe/index.js';
import { callFixtures, imageFixtures, repoRoot } from '../helpers/paths.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { precisionOracle } from '../helpers/oracles.js';

const precision = join(repoRoot, 'test', 'fixtures', 'precision', 'bin');
const scan = (dir: string, file: string) => analyze(new Uint8Array(readFileSync(join(dir, file))), { path: file });

describe('packed-section', () => {
  it('entropy: 0 for one repeated byte, 8 for every byte value equally often', () => {
    assert.equal(entropy(new Uint8Array(4096).fill(0x90)), 0);
    assert.equal(entropy(Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff)), 8);
    assert.ok(PACKED_ENTROPY > 7 && PACKED_ENTROPY < 8);
  });
  it('notes UPX1 of every packed fixture', () => {
    for (const file of readdirSync(precision).filter((f) => f.startsWith('packed.') && f.endsWith('.sys'))) {
      const notes = scan(precision, file).findings.filter((f) => f.ruleId === 'packed-section');
      assert.deepEqual(notes.map((f) => f.section), ['UPX1'], file);
    }
  });
  it('below the entropy threshold, undecodable bytes in reached code still make a section packed (x64)', () => {
    for (const file of readdirSync(precision).filter((f) => f.startsWith('packed.x64.') && f.endsWith('.sys'))) {
      const bytes = new Uint8Array(readFileSync(join(precision, file)));
      const parsed = parsePe(bytes);
      assert.ok(parsed.ok);
      const upx1 = parsed.image.sections.find((s) => s.name === 'UPX1');
      assert.ok(upx1);
      // Zero every fifth byte after the stub: the entropy drops below the packed threshold but
      // stays above the suspect one, and DriverEntry's call still runs into random bytes.
      const mutated = bytes.slice();
      for (let i = 64; i < upx1.sizeOfRawData; i += 5) mutated[upx1.pointerToRawData + i] = 0;
      const h = entropy(mutated.subarray(upx1.pointerToRawData, upx1.pointerToRawData + upx1.sizeOfRawData));
      assert.ok(h > SUSPECT_ENTROPY && h < PACKED_ENTROPY, `premise: entropy ${h}`);
      const report = analyze(mutated, { path: file });
      const notes = report.findings.filter((f) => f.ruleId === 'packed-section');
      assert.deepEqual(notes.map((f) => [f.section, (f.evidence as { reason?: string }).reason]), [['UPX1', 'undecodable']], file);
      assert.match(notes[0]?.message ?? '', /undecodable bytes at 0x[0-9A-F]+ in reached code/);
      assert.ok(!report.findings.some((f) => f.ruleId === 'cr0-write'), file);
    }
  });
  it('stays silent on compiled code: every image and call fixture', () => {
    for (const dir of [imageFixtures, callFixtures]) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.sys') || f.endsWith('.dll') || f.endsWith('.exe'))) {
        assert.deepEqual(scan(dir, file).findings.filter((f) => f.ruleId === 'packed-section'), [], file);
      }
    }
  });
});

// Valid, invalid and not-applicable cases; the packed section's name from the fixture's oracle (objdump).
ruleTester(ruleById('packed-section'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('image/bin/clean_driver.x86.clang.sys')],
  invalid: ['packed.x64.mingw.sys', 'packed.x86.clang.sys'].map((file) => ({
    input: bin(`precision/bin/${file}`),
    findings: [{ messageId: 'packed', section: precisionOracle(file, 'section').find(([name]) => name === 'UPX1')?.[0] as string, severity: 'note' as const }],
  })),
  notApplicable: codeRuleNotApplicable,
});
