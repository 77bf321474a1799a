/**
 * SARIF's rules-not-applied notes stay bounded on a big scan: one note per rule and reason,
 * with the number of files and at most ten of them, checked against the JSON report of the
 * same inputs (which lists every file's rules not applied).
 */
import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type * as Sarif from 'sarif';
import type { ScanReport } from '../../src/report/model.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { sarifSchemaErrors } from './sarif-schema.js';

const USER_DLL = join(repoRoot, 'test/fixtures/image/bin/user_dll.x64.mingw.sys');
const DRIVER = join(repoRoot, 'test/fixtures/image/bin/clean_driver.x64.mingw.sys');
const COPIES = 12;

describe('SARIF: rules not applied on many files', () => {
  // Twelve copies of a user-mode DLL (no rule that reads code applies to any) and a driver.
  const dir = mkdtempSync(join(tmpdir(), 'hvci-sarif-not-applied-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (let i = 0; i < COPIES; i++) linkSync(USER_DLL, join(dir, `dll${String(i).padStart(2, '0')}.sys`));
  linkSync(DRIVER, join(dir, 'driver.sys'));

  const json = JSON.parse(runCli(['scan', '--format', 'json', '--fail-on', 'none', dir]).stdout) as ScanReport;
  const sarif = JSON.parse(runCli(['scan', '--format', 'sarif', '--fail-on', 'none', dir]).stdout) as Sarif.Log;
  const notes = (sarif.runs[0]?.invocations?.[0]?.toolExecutionNotifications ?? []).filter((n) => n.descriptor?.id === 'RULE_NOT_APPLICABLE');

  // What the JSON report says, per rule and reason: the files.
  const expected = new Map<string, string[]>();
  for (const f of json.files) {
    for (const n of f.rulesNotApplied ?? []) expected.set(`${n.ruleId}: ${n.reason}`, [...(expected.get(`${n.ruleId}: ${n.reason}`) ?? []), f.path]);
  }

  it('is valid SARIF', () => assert.deepEqual(sarifSchemaErrors(sarif), []));
  /** "rule X not applied to N files (…): reason" → "X: reason". */
  const keyOf = (n: Sarif.Notification) => `${n.associatedRule?.id}: ${/^rule \S+ not applied to \d+ files(?: \([^)]*\))?: (.*)$/.exec(n.message.text ?? '')?.[1]}`;

  it('has one note per rule and reason of the JSON report, not one per file', () => {
    assert.ok(expected.size > 5, 'the user-mode DLL has rules not applied');
    assert.deepEqual(notes.map(keyOf).sort(), [...expected.keys()].sort());
  });
  it('counts the files, lists the first ten, and says where the rest are', () => {
    for (const n of notes) {
      assert.equal(expected.get(keyOf(n))?.length, COPIES, n.message.text);
      assert.equal(n.properties?.fileCount, COPIES);
      assert.match(n.message.text ?? '', new RegExp(`not applied to ${COPIES} files \\(the first 10 are listed; the JSON report lists every file's\\)`));
      assert.equal(n.locations?.length, 10);
      for (const l of n.locations ?? []) assert.match(l.physicalLocation?.artifactLocation?.uri ?? '', /dll\d\d\.sys$/);
    }
  });
});
