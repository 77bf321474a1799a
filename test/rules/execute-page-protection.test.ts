import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('execute-page-protection');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('execute-page-protection'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/clean_calls.x86.clang-O2.sys')],
  invalid: [
    { input: bin('calls/bin/protect.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('protect.x64.mingw-O2.sys', 'valloc_exec', 'execute-page-protection'), severity: 'error' },
      { messageId: 'executable', rva: oracleCallRva('protect.x64.mingw-O2.sys', 'valloc_user_exec', 'execute-page-protection'), severity: 'warning' },
    ] },
    { input: bin('calls/bin/protect.x86.clang-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('protect.x86.clang-O2.sys', 'valloc_exec', 'execute-page-protection'), severity: 'error' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
  unproduced: {
    unresolved: 'no committed fixture passes a protection hvci cannot resolve (FIXTURES.tsv has no unresolved row for this rule); the message is the shared call-site one, produced for execute-pool-type and execute-page-mapping',
  },
});
