import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ScanReport } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { reportSchemaErrors } from '../helpers/schema.js';

// eslint-disable-next-line no-control-regex -- looking for colour escapes (SGR) is the point
const ANSI = /\x1b\[[0-9;]*m/;
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

describe('exit codes on real fixtures', () => {
  const bin = 'test/fixtures/image/bin';
  it('0 for a compatible driver, 1 for an incompatible one', () => {
    assert.equal(runCli(['scan', `${bin}/clean_driver.x64.mingw.sys`]).status, 0);
    assert.equal(runCli(['scan', `${bin}/wx_section.x64.mingw.sys`]).status, 1);
  });
  it('--fail-on decides which severity fails', () => {
    const warnOnly = `${bin}/init_rwx.x64.clang.sys`;
    assert.equal(runCli(['scan', warnOnly]).status, 0);
    assert.equal(runCli(['scan', '--fail-on', 'warning', warnOnly]).status, 1);
    assert.equal(runCli(['scan', '--fail-on', 'none', `${bin}/wx_section.x64.mingw.sys`]).status, 0);
  });
  it('--target-os changes the verdict of a straddling relocation', () => {
    const f = `${bin}/straddling_reloc.x64.mingw.sys`;
    assert.equal(runCli(['scan', f]).status, 1);
    assert.equal(runCli(['scan', '--target-os', 'win10-1703', f]).status, 0);
  });
  it('findings at the fail-on level win over unreadable inputs (1, not 3)', () => {
    assert.equal(runCli(['scan', `${bin}/wx_section.x64.mingw.sys`, 'no-such-file.sys']).status, 1);
  });
  it('opens inputs read-only and leaves them unchanged', async () => {
    const { statSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    const path = `${bin}/wx_section.x86.mingw.sys`;
    const before = { mtime: statSync(path).mtimeMs, hash: createHash('sha256').update(readFileSync(path)).digest('hex') };
    runCli(['scan', path]);
    assert.deepEqual({ mtime: statSync(path).mtimeMs, hash: createHash('sha256').update(readFileSync(path)).digest('hex') }, before);
  });
});

describe('text report', () => {
  const bin = 'test/fixtures/image/bin';
  it('names the rule, the place and the fix, and says when a file is not a kernel driver', () => {
    const r = runCli(['scan', `${bin}/wx_section.x64.clang.sys`, `${bin}/user_dll.x64.mingw.sys`]);
    assert.match(r.stdout, /INCOMPATIBLE {2}.*wx_section\.x64\.clang\.sys/);
    assert.match(r.stdout, /error +execute-write-section +Section '\.rwx' is writable and executable/);
    assert.match(r.stdout, /at RVA 0x[0-9A-F]+ · section \.rwx · file offset 0x[0-9A-F]+/);
    assert.match(r.stdout, /fix: Keep code and data in separate sections/);
    assert.match(r.stdout, /COMPATIBLE {4}.*user_dll\.x64\.mingw\.sys {2}\(user-mode DLL: not a kernel driver[;)]/);
    assert.match(r.stdout, /2 files \(1 kernel-mode\): 1 incompatible, 0 with warnings, 1 compatible\./);
  });
  it('--quiet lists only files with findings', () => {
    const r = runCli(['scan', '--quiet', bin]);
    assert.ok(!r.stdout.includes('clean_driver'), r.stdout);
    assert.match(r.stdout, /wx_section/);
  });
  it('JSON for the fixtures validates against the schema and carries evidence', () => {
    const r = runCli(['scan', '--format', 'json', bin]);
    const report = JSON.parse(r.stdout) as ScanReport;
    assert.deepEqual(reportSchemaErrors(report), []);
    const wx = report.files.find((f) => f.path.endsWith('wx_section.x86.mingw.sys'));
    const finding = wx?.findings.find((f) => f.ruleId === 'execute-write-section');
    assert.equal((finding?.evidence?.section as { rights: string }).rights, 'R W X');
    assert.equal(wx?.kind, 'driver');
    const dll = report.files.find((f) => f.path.endsWith('user_dll.x64.mingw.sys'));
    assert.equal(dll?.kind, 'dll');
    assert.equal(dll?.kernelMode, false);
  });
});

describe('colour', () => {
  // script(1) gives the CLI a real pseudo-terminal, as a user's shell would.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  const inTty = (command: string, env: Record<string, string> = {}) =>
    spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '', ...env },
      timeout: 60_000,
    }).stdout;
  const cmd = (flags: string) => `node --import tsx src/cli/main.ts scan ${flags} test/fixtures/image/bin/wx_section.x64.mingw.sys`;
  it('is on for a terminal, off with NO_COLOR or --no-color', { skip: hasScript ? false : 'script(1) is not installed' }, () => {
    assert.match(inTty(cmd('')), ANSI);
    assert.doesNotMatch(inTty(cmd(''), { NO_COLOR: '1' }), ANSI);
    assert.doesNotMatch(inTty(cmd('--no-color')), ANSI);
  });
});

describe('--verbose', () => {
  it('lists the call sites that were checked, compatible ones included', () => {
    const r = runCli(['scan', '--verbose', 'test/fixtures/calls/bin/clean_calls.x64.mingw-O2.sys']);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /checked \d+ call site\(s\):/);
    assert.match(r.stdout, /ok +ExAllocatePoolWithTag at RVA 0x[0-9A-F]+ in \S+: NonPagedPoolNx \(0x200\)/);
    assert.doesNotMatch(r.stdout, /executable +\w/);
  });

  it('says when a second argument makes an executable request a warning (JSON checkedCalls and text)', () => {
    const file = 'mdl.x64.mingw-O2.sys';
    // FIXTURES.tsv (objdump oracle): map_user_exec passes UserMode, map_locked_exec KernelMode.
    const rows = readFileSync(join(repoRoot, 'test/fixtures/calls/bin/FIXTURES.tsv'), 'utf8')
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((c) => c[0] === file);
    const rvaOf = (fn: string): number => Number(rows.find((c) => c[6] === fn)?.[16]);
    const json = runCli(['scan', '--format', 'json', `test/fixtures/calls/bin/${file}`]);
    assert.deepEqual(reportSchemaErrors(JSON.parse(json.stdout)), []);
    const calls = (JSON.parse(json.stdout) as ScanReport).files[0]?.checkedCalls ?? [];
    const user = calls.find((k) => k.callRva === rvaOf('map_user_exec'));
    const kernel = calls.find((k) => k.callRva === rvaOf('map_locked_exec'));
    assert.equal(user?.verdict, 'executable');
    assert.equal(user?.severity, 'warning');
    assert.match(user?.context ?? '', /UserMode/);
    assert.equal(kernel?.severity, 'error');
    const text = runCli(['scan', '--verbose', `test/fixtures/calls/bin/${file}`]);
    assert.match(text.stdout, /warning +execute-page-mapping .*AccessMode is UserMode/);
  });
});

/** The folders `npm run samples` scans (package.json). */
const SAMPLE_DIRS = ['test/fixtures/image/bin', 'test/fixtures/calls/bin', 'test/fixtures/kmdf/bin', 'test/fixtures/precision/bin'];

describe('the Quick start scan', () => {
  it('scans the same folders as npm run samples', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.ok(pkg.scripts.samples?.endsWith(SAMPLE_DIRS.join(' ')), pkg.scripts.samples);
  });
  it('renders every bundled sample driver as text, verbose included, without an internal error', () => {
    for (const flags of [[], ['--verbose']]) {
      const r = runCli(['scan', ...flags, ...SAMPLE_DIRS]);
      assert.equal(r.status, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.match(r.stdout, /proof: 0x[0-9a-f]+ +\S/);
      // Every image in both folders is scanned; only the image fixtures' user_* DLL/EXE are not drivers.
      const images = SAMPLE_DIRS.flatMap((d) => readdirSync(join(repoRoot, d)).filter((f) => f.endsWith('.sys')));
      const userMode = images.filter((f) => f.startsWith('user_')).length;
      assert.ok(userMode > 0);
      assert.match(r.stdout, new RegExp(`${images.length} files \\(${images.length - userMode} kernel-mode\\)`));
    }
  });
});

describe('a reader that stops early (hvci scan … | head)', () => {
  it('ends quietly: no EPIPE stack trace, no internal error', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'scan', '--verbose', 'test/fixtures/calls/bin'], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -1`: read one chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    assert.doesNotMatch(stderr, /EPIPE|internal error|Error:/, stderr);
    assert.ok(code === 0 || code === 1, `exit code ${code}`);
  });
});

describe('text proof for instruction findings', () => {
  it('shows the instructions leading to a CR0 write, ending with the write at its oracle RVA', () => {
    const file = 'cr0.x64.mingw-O2.sys';
    // FIXTURES.tsv (objdump oracle): where cr0_clear_wp writes CR0.
    const row = readFileSync(join(repoRoot, 'test/fixtures/calls/bin/FIXTURES.tsv'), 'utf8')
      .split('\n')
      .map((l) => l.split('\t'))
      .find((c) => c[0] === file && c[6] === 'cr0_clear_wp');
    const rva = row?.[16] as string;
    assert.match(rva, /^0x[0-9a-f]+$/);
    const r = runCli(['scan', `test/fixtures/calls/bin/${file}`]);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes(`${rva}   mov cr0,`));
    assert.ok(at > 0, r.stdout);
    // The write is the last proof line, after the read of CR0 that starts the proof.
    const start = lines.slice(0, at).map((l, i) => [l, i] as const).filter(([l]) => /proof: 0x[0-9a-f]+ +mov r\w+, cr0/.test(l)).pop();
    assert.ok(start, 'proof starts with mov reg, cr0');
  });
});
