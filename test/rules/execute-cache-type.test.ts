import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('execute-cache-type');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv (objdump), not from hvci.
ruleTester(ruleById('execute-cache-type'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/clean_calls.x86.clang-O2.sys')],
  invalid: [
    { input: bin('calls/bin/contig.x64.mingw-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('contig.x64.mingw-O2.sys', 'contig_cached_exec', 'execute-cache-type'), severity: 'error' },
      { messageId: 'always', rva: oracleCallRva('contig.x64.mingw-O2.sys', 'contig_legacy', 'execute-cache-type'), severity: 'warning' },
    ] },
    { input: bin('calls/bin/contig.x86.mingw-O2.sys'), more: true, findings: [
      { messageId: 'executable', rva: oracleCallRva('contig.x86.mingw-O2.sys', 'contig_cached_exec', 'execute-cache-type'), severity: 'error' },
    ] },
  ],
  notApplicable: codeRuleNotApplicable,
  unproduced: {
    unresolved: 'no committed fixture passes a cache type hvci cannot resolve (FIXTURES.tsv has no unresolved row for this rule); the message is the shared call-site one, produced for execute-pool-type and execute-page-mapping',
  },
});
