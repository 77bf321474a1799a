import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('dynamic-code');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('dynamic-code'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/pool.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/gencode.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'call', rva: oracleCallRva('gencode.x64.mingw-O2.sys', 'run_generated', 'dynamic-code'), severity: 'error' },
    ] },
    { input: bin('calls/bin/gencode.x86.clang-O2.sys'), more: true, findings: [
      { messageId: 'call', rva: oracleCallRva('gencode.x86.clang-O2.sys', 'run_generated', 'dynamic-code'), severity: 'error' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
});
