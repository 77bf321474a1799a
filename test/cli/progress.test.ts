/** Progress on stderr: drawn on a terminal (a pseudo-terminal from util-linux `script`), never otherwise or with --quiet. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ScanReport } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { cliEntry, imageFixtures, repoRoot } from '../helpers/paths.js';

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'hvci-progress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const PROGRESS_LINE = /(\d+)\/(\d+) files \| [\d.]+ MiB\/s \| ETA /;

/** Runs the CLI with stdin, stdout and stderr on a pseudo-terminal; returns everything the terminal got. */
function onTerminal(args: readonly string[]): { status: number; terminal: string } {
  const command = [process.execPath, '--import', 'tsx', cliEntry, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, terminal: r.stdout };
}

describe('progress', { skip: hasScript ? false : 'needs script(1) from util-linux' }, () => {
  it('on a terminal, with --jobs 2: files done of the total, MiB/s and ETA, cleared at the end', () => {
    const out = join(dir, 'report.json');
    const r = onTerminal(['scan', '-f', 'json', '-o', out, '-j', '2', '--fail-on', 'none', imageFixtures]);
    assert.equal(r.status, 0, r.terminal);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
    const m = PROGRESS_LINE.exec(r.terminal);
    assert.ok(m, `no progress line in ${JSON.stringify(r.terminal.slice(0, 400))}`);
    assert.equal(Number(m[2]), report.files.length);
    // The last thing drawn erases the bar: cursor to column 1, clear to the end of the screen.
    assert.ok(r.terminal.trimEnd().endsWith('\x1b[1G\x1b[0J'), JSON.stringify(r.terminal.slice(-80)));
  });

  it('never with --quiet, even on a terminal', () => {
    const r = onTerminal(['scan', '-q', '-f', 'json', '-o', join(dir, 'quiet.json'), '--fail-on', 'none', imageFixtures]);
    assert.equal(r.status, 0, r.terminal);
    assert.doesNotMatch(r.terminal, PROGRESS_LINE);
  });
});

it('never when stderr is not a terminal', () => {
  const r = runCli(['scan', '-f', 'json', '-o', join(dir, 'piped.json'), '--fail-on', 'none', imageFixtures]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
