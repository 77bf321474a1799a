/**
 * The `hvci` bin runs the bundled CLI (dist/bundle, scripts/bundle-cli.mjs; `npm ci` builds it).
 * It must behave exactly as the source it is built from: same reports, worker pool included.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { callFixtures, imageFixtures, repoRoot } from '../helpers/paths.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: { hvci: string } };
const bin = join(repoRoot, pkg.bin.hvci);

function runBundle(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' }, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled CLI (package.json bin)', () => {
  // Always test a bundle of the current source, not a stale one.
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle-cli.mjs')], { cwd: repoRoot });

  it('is what the bin names, and knows its version', () => {
    assert.equal(pkg.bin.hvci, 'dist/bundle/main.js');
    const r = runBundle(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });
  it('answers -V as --version, and leaves any other command line to the CLI', () => {
    assert.equal(runBundle(['-V']).stdout.trim(), pkg.version);
    // Not the fast path (bin.ts): commander's own answer, the same as the source CLI's.
    for (const args of [['--version', '--help'], ['rules', '--version']]) {
      const bundled = runBundle(args);
      const source = runCli(args);
      assert.equal(bundled.status, source.status, args.join(' '));
      assert.equal(bundled.stdout, source.stdout, args.join(' '));
    }
  });
  it('writes byte for byte the JSON report of the source CLI, in worker threads too (--jobs 2)', () => {
    const args = ['scan', '-f', 'json', '--jobs', '2', imageFixtures, callFixtures];
    const bundled = runBundle(args);
    const source = runCli(args);
    assert.equal(bundled.status, source.status, bundled.stderr);
    assert.ok(JSON.parse(bundled.stdout).files.length > 100);
    assert.equal(bundled.stdout, source.stdout);
  });
  it('loads the decoder only to decode code: not for rules, --image-only or a user-mode file', () => {
    const required = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--require', join(repoRoot, 'test/helpers/record-requires.cjs'), bin, ...args], { cwd: repoRoot, encoding: 'utf8' });
      return r.stderr.includes('required: iced-x86');
    };
    const driver = join(callFixtures, 'pool.x64.mingw-O2.sys');
    assert.equal(required(['scan', driver]), true, 'a driver with code is decoded');
    assert.equal(required(['rules']), false);
    assert.equal(required(['scan', '--image-only', driver]), false);
    assert.equal(required(['scan', join(imageFixtures, 'user_dll.x64.mingw.sys')]), false);
  });
  it('lists the rules', () => {
    const r = runBundle(['rules']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /execute-pool-type/);
  });
});
