import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFixtureRows, findingsOf, fixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('dynamic-routine-lookup');

describe('dynamic-routine-lookup names the routine the source looks up', () => {
  const rows = fixtureRows.filter((r) => r.rule === 'dynamic-routine-lookup' && r.verdict === 'note');
  it('has rows for a stack-built name and for a name hvci cannot know', () => {
    assert.ok(rows.some((r) => r.value_name === 'stack-UNICODE_STRING') && rows.some((r) => r.value === '[global]'));
  });
  for (const row of rows) {
    it(`${row.file} ${row.function}: ${row.value}`, () => {
      const f = findingsOf(row.file as string).find((x) => x.ruleId === 'dynamic-routine-lookup' && `0x${(x.rva ?? 0).toString(16)}` === row.call_rva);
      assert.ok(f, `a note at ${row.call_rva}`);
      const literal = /^L"(.*)"$/.exec(row.value as string)?.[1];
      if (literal !== undefined) {
        assert.equal(f.evidence?.routine, literal);
      } else {
        // The name is not in the binary: the note says so instead of staying silent.
        assert.equal(f.evidence?.routine, null);
        assert.match(f.message, /cannot recover/);
      }
    });
  }
});

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('dynamic-routine-lookup'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/pool.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/forms.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'lookup', rva: oracleCallRva('forms.x64.mingw-O2.sys', 'forms_dynamic_lookup', 'dynamic-routine-lookup'), severity: 'note' },
    ] },
    { input: bin('calls/bin/flow.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'unknownName', rva: oracleCallRva('flow.x64.mingw-O2.sys', 'lookup_unknown_name', 'dynamic-routine-lookup'), severity: 'note' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
});
