import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('code-patching');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('code-patching'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/pool.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/patch.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'mdl', rva: oracleCallRva('patch.x64.mingw-O2.sys', 'mdl_over_looked_up_routine', 'code-patching'), severity: 'error' },
    ] },
    { input: bin('calls/bin/patch.x86.clang-O2.sys'), more: true, findings: [
      { messageId: 'mdl', rva: oracleCallRva('patch.x86.clang-O2.sys', 'mdl_over_looked_up_routine', 'code-patching'), severity: 'error' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
});
