/**
 * hvci system --from: every real sample in ../shared/data/windows-outputs is recognised as
 * what its folder says it is, and a support ticket made of several outputs gives the state,
 * the blocking drivers with their packages and the pnputil advice. Expected values are read
 * from the samples' text here (by regex or by eye, quoted), not from the code under test.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { SystemReport } from '../../src/system/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';

const samples = resolve(repoRoot, '..', 'shared', 'data', 'windows-outputs');
if (!existsSync(samples) && process.env.CI) throw new Error(`no Windows output samples at ${samples}`);

const schema = JSON.parse(readFileSync(join(repoRoot, 'schema', 'system.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);

/** The explain kinds each sample folder holds (INDEX.md of the samples). */
const FOLDER_KINDS: Record<string, string[]> = {
  'bugcheck-c4': ['bugcheck-c4'],
  verifier: ['verifier-flags'],
  'dg-readiness': ['dg-readiness'],
  'deviceguard-wmi': ['deviceguard-wmi', 'computerinfo'],
  'codeintegrity-events': ['codeintegrity-event'],
  'incompatible-drivers': ['incompatible-drivers'],
  pnputil: ['pnputil'],
};

function system(args: string[]): { status: number; report?: SystemReport; stderr: string } {
  const r = runCli(['system', '--format', 'json', ...args]);
  if (r.status !== 0 && r.status !== 1) return { status: r.status, stderr: r.stderr };
  const report = JSON.parse(r.stdout) as SystemReport;
  assert.ok(validate(report), JSON.stringify(validate.errors));
  return { status: r.status, report, stderr: r.stderr };
}

describe('hvci system --from on the real samples', { skip: existsSync(samples) ? false : `no samples at ${samples}` }, () => {
  const files = existsSync(samples)
    ? readdirSync(samples, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => readdirSync(join(samples, d.name)).map((f) => join(d.name, f)))
    : [];

  it('covers every sample folder (or a new kind needs a line in FOLDER_KINDS)', () => {
    assert.deepEqual([...new Set(files.map((f) => f.split('/')[0]))].sort(), Object.keys(FOLDER_KINDS).sort());
  });

  it('recognises every sample as its kind, in one run over all of them', () => {
    const { report } = system(['--from', ...files.map((f) => join(samples, f))]);
    assert.ok(report);
    assert.equal(report.summary.inputs, files.length);
    assert.equal(report.summary.unrecognised, 0);
    for (const f of files) {
      const name = f.split('/')[1] as string;
      const kinds = report.inputs.filter((i) => i.source === name).map((i) => i.kind);
      const expected = FOLDER_KINDS[f.split('/')[0] as string] ?? [];
      assert.ok(kinds.some((k) => expected.includes(k)), `${f}: read as ${kinds.join(', ') || 'nothing'}`);
    }
  });

  it('a ticket: Win32_DeviceGuard + "Review incompatible drivers" gives the state and the pnputil advice per package', () => {
    const wmi = join(samples, 'deviceguard-wmi', '01-osisoft-299-list.txt');
    const text = readFileSync(wmi, 'utf8');
    const running = /SecurityServicesRunning\s*:\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
    const configured = /SecurityServicesConfigured\s*:\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
    const expected = /\b2\b/.test(running) ? 'running' : /\b2\b/.test(configured) ? 'configured' : 'off';
    const { status, report } = system([
      '--from',
      wmi,
      join(samples, 'incompatible-drivers', '01-codens-2817-ko.txt'),
      join(samples, 'incompatible-drivers', '02-driverstoreexplorer-396-samsung.txt'),
    ]);
    assert.equal(status, 1, 'drivers block memory integrity: exit 1');
    assert.equal(report?.state?.memoryIntegrity, expected);
    // From the samples: "I6Helix_AvsFilter.sys - oem48.inf"; "mbtusbser.sys" … "oem105.inf".
    const byName = new Map(report?.drivers.map((d) => [d.path, d]));
    assert.equal(byName.get('I6Helix_AvsFilter.sys')?.package?.publishedName, 'oem48.inf');
    assert.equal(byName.get('mbtusbser.sys')?.package?.publishedName, 'oem105.inf');
    assert.match(byName.get('mbtusbser.sys')?.advice ?? '', /pnputil \/delete-driver oem105\.inf \/uninstall/);
    for (const d of report?.drivers ?? []) {
      assert.equal(d.blocksMemoryIntegrity, true);
      assert.equal(d.sha256, '', 'no binary in a saved output');
      assert.equal(d.verdict, 'unknown');
    }
  });

  it('joins a package named as incompatible with what pnputil -e says about it (provider, version)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvci-system-'));
    // The list line in the Korean sample's own shape, naming the first package of the pnputil sample.
    const list = join(dir, 'incompatible.txt');
    writeFileSync(list, '비호환 드라이버\namdfoo.sys - oem22.inf\n');
    const { report } = system(['--from', list, join(samples, 'pnputil', '01-opentabletdriver-437-pnputil-e-en.txt')]);
    // The sample reads: "Published name : oem22.inf / Driver package provider : Advanced Micro Devices, Inc /
    // Driver date and version : 09/29/2019 2.2.0.121".
    assert.deepEqual(report?.drivers[0]?.package, {
      publishedName: 'oem22.inf',
      originalName: null,
      provider: 'Advanced Micro Devices, Inc',
      driverVersion: '2.2.0.121',
      class: null,
    });
    assert.match(report?.drivers[0]?.advice ?? '', /update it from Advanced Micro Devices, Inc \(installed: 2\.2\.0\.121\)/);
  });

  it('reads the UTF-16LE (with BOM) that PowerShell redirection writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvci-system-'));
    const text = readFileSync(join(samples, 'incompatible-drivers', '02-driverstoreexplorer-396-samsung.txt'), 'utf8');
    const utf16 = join(dir, 'utf16.txt');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const { report } = system(['--from', utf16]);
    assert.deepEqual(report?.drivers.map((d) => [d.path, d.package?.publishedName]), [['mbtusbser.sys', 'oem105.inf']]);
  });
});

describe('hvci system usage', () => {
  it('without --root or --from: exit 2 and one clear line', () => {
    const r = runCli(['system']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /hvci system needs --root DIR \(an offline Windows tree\) or --from FILE/);
  });
  it('an unreadable input: exit 2 naming it', () => {
    const r = runCli(['system', '--from', '/nonexistent/ticket.txt']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\/nonexistent\/ticket\.txt: cannot read it/);
  });
});
