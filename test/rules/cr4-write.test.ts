import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFixtureRows, findingsOf, fixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, x86OnlyNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

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

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('cr4-write'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/cr0.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/privileged.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'write', rva: oracleCallRva('privileged.x64.mingw-O2.sys', 'cr4_clear_smep', 'cr4-write'), severity: 'warning' },
    ] },
    { input: bin('calls/bin/privileged.x86.clang-O2.sys'), more: true, findings: [
      { messageId: 'write', rva: oracleCallRva('privileged.x86.clang-O2.sys', 'cr4_clear_smep', 'cr4-write'), severity: 'warning' },
    ] },
  ],
  notApplicable: x86OnlyNotApplicable,
});
