/**
 * Rules that do not apply are listed, not silently skipped (issue 11 item 3): the JSON report
 * of a driver for a machine hvci does not decode (ARMNT), of an ARM64 driver (the x86-only
 * rules) and of a user-mode DLL names every rule not applied and why, and the other formats
 * carry the same list. Through the real CLI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ScanReport } from '../../src/report/model.js';
import { RULE_IDS } from '../../src/rules/ids.js';
import { rules } from '../../src/rules/index.js';
import { runCli } from '../helpers/cli.js';
import { reportSchemaErrors } from '../helpers/schema.js';

const ARM64 = 'test/fixtures/arm64/bin/clean_driver.arm64.clang.sys';
/** The ARM64 driver with its Machine field set to ARMNT (0x01c4): code hvci does not decode. */
const ARMNT = join(mkdtempSync(join(tmpdir(), 'hvci-armnt-')), 'clean_driver.armnt.sys');
{
  const bytes = readFileSync(ARM64);
  bytes.writeUInt16LE(0x01c4, bytes.readUInt32LE(0x3c) + 4);
  writeFileSync(ARMNT, bytes);
}
const X86_ONLY = ['cr0-write', 'cr4-write', 'msr-write'];
const X86_ONLY_REASON = 'an x86/x64 instruction (CR0, CR4, MSR writes); ARM64 code has no such instruction';
const NOT_DECODED = 'reads x86, x64 and ARM64 machine code; ARMNT code is not decoded';
const USER_DLL = 'test/fixtures/image/bin/user_dll.x64.mingw.sys';
const DRIVER = 'test/fixtures/image/bin/clean_driver.x64.mingw.sys';
const codeRules = rules.filter((r) => r.meta.requiresCode).map((r) => r.meta.id);

describe('rules not applied', () => {
  const r = runCli(['scan', '--format', 'json', ARMNT, ARM64, USER_DLL, DRIVER]);
  const report = JSON.parse(r.stdout) as ScanReport;
  const file = (path: string) => report.files.find((f) => f.path === path);

  it('the JSON report is valid against the schema', () => {
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(reportSchemaErrors(report), []);
  });
  it('an ARMNT driver: every rule that reads code, because ARMNT code is not decoded', () => {
    const arm = file(ARMNT);
    assert.equal(arm?.machine, 'armnt');
    assert.deepEqual(arm?.rulesNotApplied?.map((n) => n.ruleId), codeRules);
    for (const n of arm?.rulesNotApplied ?? []) assert.equal(n.reason, NOT_DECODED);
    assert.equal(arm?.callSiteAnalysis, 'unsupported-machine');
  });
  it('an ARM64 driver: its code is analysed; only the x86-only instruction rules are not applied', () => {
    const arm = file(ARM64);
    assert.equal(arm?.machine, 'arm64');
    assert.deepEqual(arm?.rulesNotApplied?.map((n) => n.ruleId), X86_ONLY);
    for (const n of arm?.rulesNotApplied ?? []) assert.equal(n.reason, X86_ONLY_REASON);
    assert.equal(arm?.callSiteAnalysis, 'complete');
  });
  it('a user-mode DLL: the rules that read code and the driver block list, because it is not kernel code', () => {
    const dll = file(USER_DLL);
    assert.equal(dll?.kernelMode, false);
    assert.deepEqual(dll?.rulesNotApplied?.map((n) => n.ruleId).sort(), [...codeRules, 'vulnerable-driver-blocklist'].sort());
    for (const n of dll?.rulesNotApplied ?? []) assert.match(n.reason, /^not kernel-mode code \(dll/);
    assert.equal(dll?.callSiteAnalysis, 'not-run');
  });
  it('a kernel driver built for x64: every rule applies', () => {
    assert.equal(file(DRIVER)?.rulesNotApplied, undefined);
    assert.equal(file(DRIVER)?.callSiteAnalysis, 'complete');
  });
  it('every rule id listed is a rule of the registry', () => {
    for (const f of report.files) for (const n of f.rulesNotApplied ?? []) assert.ok((RULE_IDS as readonly string[]).includes(n.ruleId), n.ruleId);
  });

  it('text: listed with --verbose, grouped by reason; not without it', () => {
    const verbose = runCli(['scan', '--no-color', '--verbose', ARMNT]).stdout;
    assert.ok(verbose.includes(`  not applied  ${codeRules.join(', ')}: ${NOT_DECODED}`), verbose);
    assert.doesNotMatch(runCli(['scan', '--no-color', ARMNT]).stdout, /not applied/);
    const arm = runCli(['scan', '--no-color', '--verbose', ARM64]).stdout;
    assert.ok(arm.includes(`  not applied  ${X86_ONLY.join(', ')}: ${X86_ONLY_REASON}`), arm);
  });
  it('SARIF: one note notification per rule not applied, tied to the rule and the file', () => {
    const sarif = JSON.parse(runCli(['scan', '--format', 'sarif', USER_DLL]).stdout) as {
      runs: Array<{ invocations: Array<{ toolExecutionNotifications: Array<{ level: string; descriptor: { id: string }; associatedRule?: { id: string }; message: { text: string } }> }> }>;
    };
    const notes = sarif.runs[0]?.invocations[0]?.toolExecutionNotifications.filter((n) => n.descriptor.id === 'RULE_NOT_APPLICABLE') ?? [];
    assert.deepEqual(notes.map((n) => n.associatedRule?.id).sort(), [...codeRules, 'vulnerable-driver-blocklist'].sort());
    for (const n of notes) {
      assert.equal(n.level, 'note');
      assert.match(n.message.text, /user_dll\.x64\.mingw\.sys: rule [a-z0-9-]+ not applied: not kernel-mode code/);
    }
  });
  it('HTML: a "not applied" list in the file section', () => {
    const html = runCli(['scan', '--format', 'html', ARMNT]).stdout;
    assert.match(html, new RegExp(`${codeRules.length} rules not applied`));
    assert.ok(html.includes(`Not applied: <b>${codeRules.join(', ')}</b> — ${NOT_DECODED}`));
  });
});
