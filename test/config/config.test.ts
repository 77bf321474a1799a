import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type * as Sarif from 'sarif';
import { CONFIG_SCHEMA, globToRegExp, parseConfig } from '../../src/config/index.js';
import type { ScanReport } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { reportSchemaErrors } from '../helpers/schema.js';
import { sarifSchemaErrors } from '../report/sarif-schema.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hvci-config-'));
const bin = 'test/fixtures/image/bin';
const fp = 'test/fixtures/fingerprint/bin';
const wx = `${bin}/wx_section.x64.mingw.sys`;
const writeConfig = (config: unknown) => {
  const path = join(tmp(), 'hvci.config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
};
const json = (args: string[]) => {
  const r = runCli(['scan', '--format', 'json', ...args]);
  return { ...r, report: r.stdout ? (JSON.parse(r.stdout) as ScanReport) : undefined };
};

describe('config file: validation', () => {
  it('names an unknown key, at the top and inside a suppression, and exits 2', () => {
    let r = runCli(['scan', '-c', writeConfig({ targetOS: 'win11' }), wx]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown key "targetOS" at top level/);
    r = runCli(['scan', '-c', writeConfig({ suppressions: [{ ruleId: 'execute-write-section', reason: 'x', file: 'a' }] }), wx]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown key "file" at \/suppressions\/0/);
  });
  it('rejects unknown rule ids, bad severities, a missing or empty reason, bad JSON, a bad target OS', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ rules: { 'no-such-rule': 'off' } }, /unknown rule "no-such-rule" in rules/],
      [{ rules: { 'execute-write-section': 'fatal' } }, /\/rules\/execute-write-section must be one of error, warning, note, off/],
      [{ suppressions: [{ ruleId: 'execute-write-section' }] }, /missing "reason" at \/suppressions\/0/],
      [{ suppressions: [{ ruleId: 'execute-write-section', reason: '  ' }] }, /a suppression needs a reason/],
      [{ targetOs: 'win7' }, /unknown Windows version "win7" in targetOs/],
    ];
    for (const [config, message] of cases) {
      const r = runCli(['scan', '-c', writeConfig(config), wx]);
      assert.equal(r.status, 2, JSON.stringify(config));
      assert.match(r.stderr, message);
    }
    const bad = join(tmp(), 'c.json');
    writeFileSync(bad, '{ nope');
    assert.match(runCli(['scan', '-c', bad, wx]).stderr, /not valid JSON/);
  });
  it('the published schema (schema/config.schema.json) is the one the CLI uses (npm run docs)', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(repoRoot, 'schema', 'config.schema.json'), 'utf8')), CONFIG_SCHEMA);
  });
  it('accepts a full, documented example', () => {
    const config = parseConfig(
      JSON.stringify({
        $schema: './node_modules/hvci/schema/config.schema.json',
        targetOs: 'win10-1703',
        failOn: 'warning',
        rules: { 'init-section-rwx': 'off', 'straddling-relocation': 'error' },
        ignore: ['third_party/**', '*.test.sys'],
        suppressions: [{ ruleId: 'execute-write-section', path: 'legacy/**', reason: 'Shipped only to Windows 7 customers.' }],
      }),
      'x.json',
      ['init-section-rwx', 'straddling-relocation', 'execute-write-section'],
    );
    assert.equal(config.targetOs, 'win10-1703');
  });
});

describe('globs', () => {
  it('"**" spans directories, "*" stays in a name, a bare pattern matches the file name anywhere', () => {
    assert.ok(globToRegExp('third_party/**').test('third_party/a/b.sys'));
    assert.ok(globToRegExp('**/bin/*.sys').test('x/y/bin/a.sys'));
    assert.ok(globToRegExp('**/bin/*.sys').test('bin/a.sys'));
    assert.ok(!globToRegExp('bin/*.sys').test('bin/sub/a.sys'));
    assert.ok(globToRegExp('wx_*.sys').test('test/fixtures/wx_a.sys'));
    assert.ok(!globToRegExp('a.sys').test('xa.sys'));
  });
});

describe('config file: effect on a scan', () => {
  it('per-rule severity: an error made a warning no longer fails, unless --fail-on warning', () => {
    const c = writeConfig({ rules: { 'execute-write-section': 'warning' } });
    const r = json(['-c', c, wx]);
    assert.equal(r.status, 0);
    assert.equal(r.report?.files[0]?.verdict, 'warnings');
    assert.equal(runCli(['scan', '-c', c, '--fail-on', 'warning', wx]).status, 1);
    assert.equal(runCli(['scan', '-c', writeConfig({ rules: { 'execute-write-section': 'warning' }, failOn: 'warning' }), wx]).status, 1);
  });
  it('"off" drops the rule\'s findings', () => {
    const r = json(['-c', writeConfig({ rules: { 'execute-write-section': 'off' } }), wx]);
    assert.equal(r.status, 0);
    assert.deepEqual(r.report?.files[0]?.findings, []);
  });
  it('targetOs from the config, and the command line wins over it', () => {
    const f = `${bin}/straddling_reloc.x64.mingw.sys`;
    const c = writeConfig({ targetOs: 'win10-1703' });
    assert.equal(runCli(['scan', '-c', c, f]).status, 0);
    assert.equal(runCli(['scan', '-c', c, '--target-os', 'win10-1507', f]).status, 1);
  });
  it('ignore: files in scanned directories matching a glob are not scanned (named files still are)', () => {
    const c = writeConfig({ ignore: ['wx_section.*', 'test/fixtures/image/bin/iat_*'] });
    const r = json(['-c', c, bin]);
    assert.ok(r.report);
    assert.ok(!r.report.files.some((f) => /wx_section|iat_in_text/.test(f.path)));
    assert.ok((r.report.summary.ignored ?? 0) >= 6, String(r.report.summary.ignored));
    assert.equal(json(['-c', c, wx]).report?.files.length, 1);
  });
  it('suppressions carry their reason into JSON and SARIF, and do not fail the scan', () => {
    const fingerprint = json([wx]).report?.files[0]?.findings[0]?.fingerprint;
    const c = writeConfig({ suppressions: [{ ruleId: 'execute-write-section', path: '**/wx_section.x64.*', fingerprint, reason: 'Known; fixed in 2.0.' }] });
    const r = json(['-c', c, wx, `${bin}/wx_section.x86.mingw.sys`]);
    assert.ok(r.report);
    assert.deepEqual(reportSchemaErrors(r.report), []);
    assert.equal(r.status, 1, 'the x86 build is not suppressed');
    const [x64, x86] = r.report.files;
    assert.equal(x64?.verdict, 'compatible');
    assert.deepEqual(x64?.suppressed?.map((f) => f.suppression), [{ kind: 'config', reason: 'Known; fixed in 2.0.' }]);
    assert.equal(x86?.findings.length, 1);
    assert.equal(r.report.summary.suppressed, 1);
    const sarif = JSON.parse(runCli(['scan', '--format', 'sarif', '-c', c, wx]).stdout) as Sarif.Log;
    assert.deepEqual(sarifSchemaErrors(sarif), []);
    assert.deepEqual(sarif.runs[0]?.results?.[0]?.suppressions, [{ kind: 'external', status: 'accepted', justification: 'Known; fixed in 2.0.' }]);
  });
});

describe('--baseline', () => {
  const dir = tmp();
  const baseline = join(dir, 'baseline.json');
  // The baseline: a scan of the driver as it was.
  const first = runCli(['scan', '--format', 'json', '-o', baseline, `${fp}/base.x64.mingw.sys`]);
  const rebuilt = (variant: string) => {
    const d = mkdtempSync(join(dir, 'build-'));
    copyFileSync(join(repoRoot, fp, `${variant}.x64.mingw.sys`), join(d, 'base.x64.mingw.sys'));
    return join(d, 'base.x64.mingw.sys');
  };

  it('a rebuild with an unrelated function added has no new findings: exit 0', () => {
    assert.equal(first.status, 1);
    const r = json(['--baseline', baseline, rebuilt('extra')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.report);
    assert.deepEqual(r.report.files[0]?.findings, []);
    assert.ok((r.report.files[0]?.suppressed ?? []).every((f) => f.suppression?.kind === 'baseline'));
    assert.deepEqual(reportSchemaErrors(r.report), []);
  });
  it('a real change is a new finding and fails; what was already there does not', () => {
    const r = json(['--baseline', baseline, rebuilt('changed')]);
    assert.ok(r.report);
    const file = r.report.files[0];
    assert.equal(r.status, file?.findings.some((f) => f.severity === 'error') ? 1 : 0);
    assert.ok(!file?.findings.some((f) => f.ruleId === 'execute-write-section'), 'the W+X section is in the baseline');
    assert.ok(file?.suppressed?.some((f) => f.ruleId === 'execute-write-section'));
  });
  it('SARIF marks baseline findings unchanged and suppressed', () => {
    const log = JSON.parse(runCli(['scan', '--format', 'sarif', '--baseline', baseline, rebuilt('extra')]).stdout) as Sarif.Log;
    assert.deepEqual(sarifSchemaErrors(log), []);
    for (const r of log.runs[0]?.results ?? []) {
      assert.equal(r.baselineState, 'unchanged');
      assert.match(r.suppressions?.[0]?.justification ?? '', /already in the baseline/);
    }
  });
  it('a baseline without fingerprints, or not a report, is a usage error', () => {
    const old = join(dir, 'old.json');
    const report = JSON.parse(readFileSync(baseline, 'utf8')) as ScanReport;
    for (const f of report.files) for (const x of f.findings) delete x.fingerprint;
    writeFileSync(old, JSON.stringify(report));
    let r = runCli(['scan', '--baseline', old, wx]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no fingerprints/);
    writeFileSync(old, '{}');
    r = runCli(['scan', '--baseline', old, wx]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not an hvci JSON report/);
  });
});
