import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ScanReport } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { reportSchemaErrors } from '../helpers/schema.js';

// eslint-disable-next-line no-control-regex -- looking for terminal escapes is the point
const ANSI = /\x1b\[/;
const tmp = () => mkdtempSync(join(tmpdir(), 'hvci-cli-'));

describe('hvci --help / --version / usage errors', () => {
  it('--help teaches: commands, examples and exit codes', () => {
    const r = runCli(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /scan/);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes:/);
  });
  it('scan --help lists every option', () => {
    const r = runCli(['scan', '--help']);
    assert.equal(r.status, 0);
    for (const opt of ['--format', '--output', '--target-os', '--fail-on', '--quiet', '--no-color']) assert.ok(r.stdout.includes(opt), opt);
  });
  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
  it('exits 2 on an unknown option, a bad choice, or a bad --target-os', () => {
    assert.equal(runCli(['scan', '--bogus', '.']).status, 2);
    assert.equal(runCli(['scan', '--format', 'xml', '.']).status, 2);
    const r = runCli(['scan', '--target-os', 'win7', '.']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown Windows version "win7"/);
  });
  it('exits 2 when no path is given', () => {
    assert.equal(runCli(['scan']).status, 2);
  });
});

describe('bad input: one line per file, the scan goes on', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'README.txt'), 'not a driver\n');
  writeFileSync(join(dir, 'empty.sys'), '');
  writeFileSync(join(dir, 'mz-only.sys'), 'MZ');
  const hostile = new Uint8Array(0x200);
  hostile.set([0x4d, 0x5a]);
  new DataView(hostile.buffer).setUint32(0x3c, 0xfffffff0, true); // e_lfanew near 4 GiB
  writeFileSync(join(dir, 'huge-lfanew.sys'), hostile);
  mkdirSync(join(dir, 'sub'));
  symlinkSync('..', join(dir, 'sub', 'loop'));

  it('reports each MZ-looking junk file in one line naming it, skips non-PE files, exits 3', () => {
    const r = runCli(['scan', dir]);
    assert.equal(r.status, 3, r.stderr);
    const lines = r.stderr.trim().split('\n');
    for (const name of ['mz-only.sys', 'huge-lfanew.sys']) {
      const line = lines.filter((l) => l.includes(name));
      assert.equal(line.length, 1, `${name}: ${r.stderr}`);
      assert.match(line[0] as string, /^hvci: .*: .+/);
    }
    assert.match(r.stderr, /huge-lfanew\.sys: e_lfanew 0xFFFFFFF0 points outside the 512-byte file/);
    assert.ok(!r.stderr.includes('README.txt'), 'non-PE files in a directory are skipped silently');
    assert.match(r.stderr, /loop: directory already visited/);
    assert.match(r.stdout, /2 non-PE files skipped/);
  });

  it('names an explicit non-PE file as an error and a missing path as unreadable', () => {
    const r = runCli(['scan', join(dir, 'README.txt'), join(dir, 'missing.sys')]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /README\.txt: no MZ signature/);
    assert.match(r.stderr, /missing\.sys: no such file or directory/);
  });

  it('writes a schema-valid JSON report that records the errors', () => {
    const out = join(tmp(), 'r.json');
    const r = runCli(['scan', '--format', 'json', '-o', out, dir]);
    assert.equal(r.status, 3);
    assert.equal(r.stdout, '', 'with -o nothing goes to stdout');
    const report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
    assert.deepEqual(reportSchemaErrors(report), []);
    assert.equal(report.summary.errors, 2);
    assert.ok(report.files.every((f) => f.status === 'error' && f.error && !f.error.includes('\n')));
  });

  it('refuses files over --max-file-size before reading them', () => {
    const r = runCli(['scan', '--max-file-size', '100', join(dir, 'huge-lfanew.sys')]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /huge-lfanew\.sys: file is 512 bytes, over the 100-byte limit/);
  });
});

describe('output conventions', () => {
  it('never colours output that is not a terminal', () => {
    const r = runCli(['scan', '.'], {});
    assert.ok(!ANSI.test(r.stdout) && !ANSI.test(r.stderr));
  });
});
