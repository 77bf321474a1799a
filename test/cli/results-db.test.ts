/** --db: reports stored by content, reused on the next run, a resumed scan complete, bad paths refused. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import type { FileReport, ScanReport } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { callFixtures, cliEntry, imageFixtures, repoRoot } from '../helpers/paths.js';

const pdbFixtures = join(repoRoot, 'test', 'fixtures', 'pdb', 'bin');
import { reportSchemaErrors } from '../helpers/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'hvci-db-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function scanJson(args: readonly string[]): { report: ScanReport; stderr: string; status: number } {
  const r = runCli(['scan', '-f', 'json', '--fail-on', 'none', '-j', '1', ...args]);
  return { report: JSON.parse(r.stdout) as ScanReport, stderr: r.stderr, status: r.status };
}

function query<T>(db: string, sql: string): T[] {
  const d = new Sqlite(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}

describe('--db results.sqlite', () => {
  const db = join(dir, 'results.sqlite');
  const first = scanJson(['--db', db, imageFixtures]);
  const second = scanJson(['--db', db, imageFixtures]);

  it('the first run analyses and stores every file: one files row per content, its findings as rows', () => {
    assert.equal(first.status, 0, first.stderr);
    const files = first.report.files;
    assert.ok(files.length > 20);
    assert.equal(first.report.summary.reused, 0);
    assert.match(first.stderr, new RegExp(`0 file\\(s\\) taken from the database, ${new Set(files.map((f) => f.sha256)).size} analysed and stored`));
    const rows = query<{ sha256: string; verdict: string; errors: number; report: string }>(db, 'SELECT sha256, verdict, errors, report FROM files');
    assert.equal(rows.length, new Set(files.map((f) => f.sha256)).size);
    for (const f of files) {
      const row = rows.find((r) => r.sha256 === f.sha256);
      assert.ok(row, f.path);
      assert.equal(row.verdict, f.verdict);
      assert.equal(row.errors, f.findings.filter((x) => x.severity === 'error').length);
      assert.deepEqual({ ...(JSON.parse(row.report) as FileReport), path: f.path }, f);
    }
    const wx = files.find((f) => f.path.endsWith('wx_section.x64.mingw.sys')) as FileReport;
    assert.ok(wx.findings.length > 0);
    const findings = query<{ rule_id: string; severity: string; rva: number | null }>(
      db,
      `SELECT rule_id, severity, rva FROM findings WHERE sha256 = '${wx.sha256}' ORDER BY seq`,
    );
    assert.deepEqual(
      findings,
      wx.findings.map((x) => ({ rule_id: x.ruleId, severity: x.severity, rva: x.rva ?? null })),
    );
    const paths = query<{ n: number }>(db, 'SELECT count(*) AS n FROM paths')[0];
    assert.equal(paths?.n, files.length);
  });

  it('the second run takes every file from the database and writes the same report, valid against the schema', () => {
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.report.summary.reused, second.report.files.length);
    assert.match(second.stderr, /taken from the database, 0 analysed and stored/);
    assert.deepEqual(second.report.files, first.report.files);
    assert.deepEqual(reportSchemaErrors(second.report), []);
  });

  it('another target OS is another key: nothing is reused', () => {
    const other = scanJson(['--db', db, '--target-os', 'win11', join(imageFixtures, 'wx_section.x64.mingw.sys')]);
    assert.equal(other.report.summary.reused, 0);
    const settings = query<{ settings: string }>(db, 'SELECT DISTINCT settings FROM files ORDER BY settings');
    assert.equal(settings.length, 2);
  });

  it('--image-only is another key both ways: an image-only report never stands in for a full one', () => {
    const pool = join(callFixtures, 'pool.x64.mingw-O2.sys');
    const own = join(dir, 'image-only.sqlite');
    const quick = scanJson(['--db', own, '--image-only', pool]);
    assert.equal(quick.report.summary.reused, 0);
    const full = scanJson(['--db', own, pool]);
    assert.equal(full.report.summary.reused, 0);
    assert.ok((full.report.files[0] as FileReport).findings.some((f) => f.ruleId === 'execute-pool-type'));
    assert.equal(scanJson(['--db', own, '--image-only', pool]).report.summary.reused, 1);
  });

  it('the config applies to a stored report on its way out, as to a fresh one; the database keeps the analysis', () => {
    const wx = first.report.files.find((f) => f.path.endsWith('wx_section.x64.mingw.sys')) as FileReport;
    const ruleId = (wx.findings[0] as FileReport['findings'][number]).ruleId;
    const config = join(dir, 'rule-off.json');
    writeFileSync(config, JSON.stringify({ rules: { [ruleId]: 'off' } }));
    const r = scanJson(['--db', db, '--config', config, wx.path]);
    assert.equal(r.report.summary.reused, 1);
    assert.ok(!(r.report.files[0] as FileReport).findings.some((f) => f.ruleId === ruleId), `${ruleId} is off`);
    const stored = query<{ n: number }>(db, `SELECT count(*) AS n FROM findings WHERE sha256 = '${wx.sha256}' AND rule_id = '${ruleId}'`)[0];
    assert.ok((stored?.n ?? 0) > 0);
  });

  it('an interrupted scan (SIGTERM) keeps what it stored, and the re-run completes the report from there', async () => {
    const resumed = join(dir, 'resumed.sqlite');
    const stored = await scanUntilFirstFile(resumed);
    assert.ok(stored >= 1, `${stored} file(s) stored before the kill`);
    const rerun = scanJson(['--db', resumed, imageFixtures]);
    assert.equal(rerun.report.summary.reused, stored);
    assert.deepEqual(rerun.report.files, first.report.files);
  });

  it("the README's merge of shards' databases gives the database of one whole scan, and its queries run on it", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Results database'));
    const merge = /sqlite3 all\.sqlite "([^"]+)"/.exec(section)?.[1];
    assert.ok(merge, 'the merge command in README');
    const shards = [1, 2].map((k) => {
      const shardDb = join(dir, `shard-${k}.sqlite`);
      const r = runCli(['scan', '-f', 'jsonl', '--fail-on', 'none', '-j', '1', '--shard', `${k}/2`, '--db', shardDb, imageFixtures]);
      assert.equal(r.status, 0, r.stderr);
      return shardDb;
    });
    const merged = new Sqlite(shards[0] as string);
    const whole = new Sqlite(db, { readonly: true });
    const table = (x: Sqlite.Database, sql: string) => x.prepare(sql).all();
    try {
      merged.exec(merge.replace("'$db'", `'${shards[1]}'`));
      // The whole scan's database also holds the win11 run of the test above: compare the default settings.
      const settings = "settings = 'min-build=10240;blocklist=bundled'";
      assert.deepEqual(table(merged, 'SELECT sha256, verdict, report FROM files ORDER BY sha256'), table(whole, `SELECT sha256, verdict, report FROM files WHERE ${settings} ORDER BY sha256`));
      assert.deepEqual(table(merged, 'SELECT path FROM paths ORDER BY path'), table(whole, `SELECT DISTINCT path FROM paths WHERE ${settings} ORDER BY path`));
      assert.deepEqual(
        table(merged, 'SELECT sha256, seq, rule_id, rva FROM findings ORDER BY 1, 2'),
        table(whole, `SELECT sha256, seq, rule_id, rva FROM findings WHERE ${settings} ORDER BY 1, 2`),
      );

      const queries = /```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      const statements = queries.split(/;\n/).map((q) => q.replace(/^--.*$/gm, '').trim()).filter((q) => q !== '');
      assert.ok(statements.length >= 4, queries);
      for (const q of statements) assert.doesNotThrow(() => merged.prepare(q).all(), q);
      const byVerdict = merged.prepare(statements[2] as string).all() as Array<{ verdict: string; drivers: number }>;
      const kernel = first.report.files.filter((f) => f.kernelMode);
      assert.ok(byVerdict.length > 1);
      for (const v of byVerdict) assert.equal(v.drivers, new Set(kernel.filter((f) => f.verdict === v.verdict).map((f) => f.sha256)).size, v.verdict);
    } finally {
      merged.close();
      whole.close();
    }
  });

  it('a PDB put beside the driver after it was stored: the driver is analysed again with it and the stored report replaced; then reused', () => {
    const drivers = join(dir, 'pdb-later');
    mkdirSync(drivers);
    const sys = join(drivers, 'rxdrv.x64.sys');
    copyFileSync(join(pdbFixtures, 'rxdrv.x64.sys'), sys);
    const pdbDb = join(dir, 'pdb-later.sqlite');
    const withoutPdb = scanJson(['--db', pdbDb, sys]);
    const stale = withoutPdb.report.files[0] as FileReport;
    assert.equal(stale.pdb, undefined, 'no PDB beside it yet');
    assert.ok(stale.findings.length > 0 && stale.findings.every((f) => f.source === undefined));
    assert.equal(scanJson(['--db', pdbDb, sys]).report.summary.reused, 1, 'nothing changed: reused');

    copyFileSync(join(pdbFixtures, 'rxdrv.x64.pdb'), join(drivers, 'rxdrv.x64.pdb'));
    const withPdb = scanJson(['--db', pdbDb, sys]);
    assert.equal(withPdb.report.summary.reused, 0, 'the PDB beside it makes the stored report out of date');
    const fresh = withPdb.report.files[0] as FileReport;
    assert.equal(fresh.pdb?.status, 'used');
    assert.ok(fresh.findings.some((f) => f.source !== undefined), 'findings have source lines now');
    const rows = query<{ report: string }>(pdbDb, `SELECT report FROM files WHERE sha256 = '${fresh.sha256}'`);
    assert.equal(rows.length, 1, 'replaced, not added');
    assert.equal((JSON.parse(rows[0]?.report ?? '{}') as FileReport).pdb?.status, 'used');
    const findingRows = query<{ n: number }>(pdbDb, `SELECT count(*) AS n FROM findings WHERE sha256 = '${fresh.sha256}'`);
    assert.equal(findingRows[0]?.n, fresh.findings.length);

    const again = scanJson(['--db', pdbDb, sys]);
    assert.equal(again.report.summary.reused, 1, 'with the PDB still there: reused');
    assert.deepEqual(again.report.files, withPdb.report.files);
    rmSync(join(drivers, 'rxdrv.x64.pdb'));
    const removed = scanJson(['--db', pdbDb, sys]);
    assert.equal(removed.report.summary.reused, 0, 'the PDB it used is gone: analysed again');
    assert.equal((removed.report.files[0] as FileReport).pdb, undefined);
  });

  it('a file that is not SQLite, or a SQLite database of something else, is a usage error and is left alone', () => {
    const junk = join(dir, 'notes.sqlite');
    writeFileSync(junk, 'these are my notes, not a database\n'.repeat(100));
    const r = runCli(['scan', '--db', junk, join(imageFixtures, 'wx_section.x64.mingw.sys')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot use .*notes\.sqlite as the results database: file is not a database/);
    assert.equal(readFileSync(junk, 'utf8'), 'these are my notes, not a database\n'.repeat(100));
    const other = join(dir, 'other.sqlite');
    const d = new Sqlite(other);
    d.exec('CREATE TABLE contacts (name TEXT)');
    d.close();
    const o = runCli(['scan', '--db', other, join(imageFixtures, 'wx_section.x64.mingw.sys')]);
    assert.equal(o.status, 2);
    assert.match(o.stderr, /is a SQLite database, but not an hvci results database/);
  });

  it('a read-only location fails clearly before anything is scanned', () => {
    // root ignores file modes; /proc refuses new files even to root.
    let target = '/proc/hvci-results.sqlite';
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      target = join(locked, 'results.sqlite');
    }
    const r = runCli(['scan', '-f', 'json', '--db', target, join(imageFixtures, 'wx_section.x64.mingw.sys')]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^hvci: cannot use .*results\.sqlite as the results database: .*\(no permission, or a read-only location\?\)\n$/);
  });
});

/** Runs a --db scan, kills it with SIGTERM as soon as it has written one file's report, and returns the files stored. */
async function scanUntilFirstFile(db: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'scan', '-f', 'jsonl', '-j', '1', '--fail-on', 'none', '--db', db, imageFixtures], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (out.includes('\n')) child.kill('SIGTERM');
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
  assert.equal(signal, 'SIGTERM', 'the scan was killed before it finished');
  return query<{ n: number }>(db, 'SELECT count(*) AS n FROM files')[0]?.n ?? 0;
}
