import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFixtureRows, findingsOf, fixtureRows } from '../analysis/fixture-rows.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('cr4-write');

describe('cr4-write says which protection the code clears', () => {
  const rows = fixtureRows.filter((r) => r.rule === 'cr4-write' && r.verdict === 'flag');
  it('has rows', () => assert.ok(rows.length > 0));
  for (const row of rows) {
    it(`${row.file} ${row.function}: ${row.value}`, () => {
      const f = findingsOf(row.file as string).find((x) => x.ruleId === 'cr4-write' && `0x${(x.rva ?? 0).toString(16)}` === row.call_rva);
      assert.ok(f, `a finding at ${row.call_rva}`);
      // The source clears bit 20 (~0x100000): SMEP.
      assert.equal(row.value, '~0x100000');
      assert.deepEqual(f.evidence?.clearsBits, ['SMEP']);
      assert.match(f.message, /after clearing SMEP/);
    });
  }
});
