import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('execute-page-mapping');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('execute-page-mapping'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/clean_calls.x86.clang-O2.sys')],
  invalid: [
    { input: bin('calls/bin/mdl.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('mdl.x64.mingw-O2.sys', 'map_locked_exec', 'execute-page-mapping'), severity: 'error' },
      { messageId: 'executable', rva: oracleCallRva('mdl.x64.mingw-O2.sys', 'map_user_exec', 'execute-page-mapping'), severity: 'warning' },
      { messageId: 'always', rva: oracleCallRva('mdl.x64.mingw-O2.sys', 'map_io_space', 'execute-page-mapping'), severity: 'error' },
    ] },
    { input: bin('calls/bin/nxoptin.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'unresolved', rva: oracleCallRva('nxoptin.x64.mingw-O2.sys', 'map_two_unknown_globals', 'execute-page-mapping'), severity: 'warning' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
});
