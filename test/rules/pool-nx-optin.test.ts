/**
 * pool-nx-optin: the NX opt-in is information under its own note id, so a code-scanning
 * alert list does not show it as an executable-pool problem (issue 10). The place of the
 * RtlGetVersion call comes from the objdump oracle of the calls fixtures.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/analyze.js';
import { callFixtures } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, codeRuleNotApplicable, ruleTester } from '../helpers/rule-tester.js';

const files = readdirSync(callFixtures).filter((f) => /^nxoptin\..*\.sys$/.test(f));

describe('pool-nx-optin', () => {
  it('has the nxoptin fixtures', () => assert.ok(files.length >= 4));
  for (const file of files) {
    it(`${file}: one note under pool-nx-optin in DriverEntry, none under execute-pool-type`, () => {
      const report = analyze(new Uint8Array(readFileSync(join(callFixtures, file))), { path: file });
      const notes = report.findings.filter((f) => f.ruleId === 'pool-nx-optin');
      assert.equal(notes.length, 1);
      assert.equal(notes[0]?.severity, 'note');
      assert.equal(notes[0]?.messageId, 'nxOptIn'); // the message id it had under execute-pool-type
      assert.ok(!report.findings.some((f) => f.ruleId === 'execute-pool-type' && /opts in to NX/.test(f.message)));
      // The evidence names the RtlGetVersion call objdump sees in DriverEntry.
      const oracle = readTsv(join(callFixtures, `${file}.calls.tsv`)).filter((r) => r.api === 'RtlGetVersion' && r.form !== 'thunk');
      const call = (notes[0]?.evidence as { rtlGetVersionCall?: string } | undefined)?.rtlGetVersionCall;
      assert.ok(oracle.some((r) => Number(r.call_rva) === Number(call)), `RtlGetVersion call ${call} not in the oracle`);
    });
  }
});

// Valid, invalid and not-applicable cases (the place of the note is checked against objdump above).
ruleTester(ruleById('pool-nx-optin'), {
  valid: [bin('calls/bin/pool.x64.mingw-O2.sys'), bin('calls/bin/clean_calls.x86.clang-O2.sys')],
  invalid: [
    { input: bin('calls/bin/nxoptin.x64.mingw-O2.sys'), findings: [{ messageId: 'nxOptIn', severity: 'note' }] },
    { input: bin('calls/bin/nxoptin.x86.clang-O2.sys'), findings: [{ messageId: 'nxOptIn', severity: 'note' }] },
  ],
  notApplicable: codeRuleNotApplicable,
});
