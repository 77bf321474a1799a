import { checkFixtureRows } from '../analysis/fixture-rows.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, x86OnlyNotApplicable, ruleTester } from '../helpers/rule-tester.js';
import { oracleCallRva, precisionOracle } from '../helpers/oracles.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('cr0-write');

// Valid, invalid and not-applicable cases; places from FIXTURES.tsv and the precision oracle (objdump), not from hvci.
const [toggleWrite, restoreWrite] = precisionOracle('cr0_toggle.x64.mingw.sys', 'cr0write').filter(([fn]) => fn === 'cr0_toggle').map(([, rva]) => Number(rva));
ruleTester(ruleById('cr0-write'), {
  valid: [bin('calls/bin/clean_calls.x64.mingw-O2.sys'), bin('calls/bin/privileged.x64.mingw-O2.sys')],
  invalid: [
    { input: bin('calls/bin/cr0.x64.mingw-O2.sys'), more: true, findings: [{ messageId: 'write', rva: oracleCallRva('cr0.x64.mingw-O2.sys', 'cr0_clear_wp', 'cr0-write'), severity: 'error' }] },
    {
      input: bin('precision/bin/cr0_toggle.x64.mingw.sys'),
      more: true,
      findings: [{ messageId: 'toggle', rva: toggleWrite as number, args: { restoreRva: `0x${(restoreWrite as number).toString(16)}` } }],
    },
  ],
  notApplicable: x86OnlyNotApplicable,
});
