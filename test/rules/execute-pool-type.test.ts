import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('execute-pool-type');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('execute-pool-type'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/clean_calls.x86.clang-O2.sys')],
  invalid: [
    { input: bin('calls/bin/pool.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('pool.x64.mingw-O2.sys', 'alloc_pool_exec', 'execute-pool-type'), severity: 'error' },
      { messageId: 'unresolved', rva: oracleCallRva('pool.x64.mingw-O2.sys', 'alloc_pool_from_global', 'execute-pool-type'), severity: 'warning' },
    ] },
    { input: bin('calls/bin/pool.x86.clang-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('pool.x86.clang-O2.sys', 'alloc_pool_exec', 'execute-pool-type'), severity: 'error' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
});
