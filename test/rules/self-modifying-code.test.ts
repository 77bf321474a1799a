import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('self-modifying-code');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('self-modifying-code'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/cr0.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/codewrite.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'write', rva: oracleCallRva('codewrite.x64.mingw-O2.sys', 'patch_own_code', 'self-modifying-code'), severity: 'error' },
    ] },
    { input: bin('calls/bin/codewrite.x86.clang-O2.sys'), more: true, findings: [
      { messageId: 'write', rva: oracleCallRva('codewrite.x86.clang-O2.sys', 'patch_own_code', 'self-modifying-code'), severity: 'error' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
});
