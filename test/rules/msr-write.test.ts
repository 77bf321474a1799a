import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFixtureRows, findingsOf, fixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, x86OnlyNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('msr-write');

/** The source's value column: one MSR, or `first-last` for a loop that counts by 1 (flow.c). */
function expectedMsrs(value: string): string[] {
  const [first, last] = value.split('-');
  if (last === undefined) return [value];
  const out: string[] = [];
  for (let m = BigInt(first as string); m <= BigInt(last); m++) out.push(`0x${m.toString(16)}`);
  return out;
}

describe('msr-write names the MSR the source writes', () => {
  const rows = fixtureRows.filter((r) => r.rule === 'msr-write' && r.verdict === 'flag');
  it('has rows for a syscall MSR and an ordinary one', () => {
    assert.ok(rows.some((r) => r.value === '0xc0000082') && rows.some((r) => r.value === '0x38f'));
    // and a loop over a range (issue 10: the whole range, not the first value)
    assert.ok(rows.some((r) => r.value === '0x400-0x41f'));
  });
  for (const row of rows) {
    it(`${row.file} ${row.function}: ${row.value_name}`, () => {
      const f = findingsOf(row.file as string).find((x) => x.ruleId === 'msr-write' && `0x${(x.rva ?? 0).toString(16)}` === row.call_rva);
      assert.ok(f, `a finding at ${row.call_rva}`);
      assert.deepEqual((f.evidence?.msrs as string[]).map(BigInt), expectedMsrs(row.value as string).map(BigInt));
      // Only the system-call entry points (LSTAR, CSTAR, SYSENTER_EIP) are called a hook.
      assert.equal(/syscall hook/.test(f.message), row.value_name === 'IA32_LSTAR', f.message);
    });
  }
});

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('msr-write'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/cr0.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/privileged.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'write', rva: oracleCallRva('privileged.x64.mingw-O2.sys', 'msr_hook_lstar', 'msr-write'), severity: 'warning', args: { msr: /IA32_LSTAR/ } },
    ] },
  ],
  notApplicable: x86OnlyNotApplicable,
});
