import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { mutations } from '../helpers/mutate.js';
import { imageFixtures } from '../helpers/paths.js';

const fixtures = readdirSync(imageFixtures).filter((f) => f.endsWith('.sys') || f.endsWith('.dll') || f.endsWith('.exe'));

describe('malformed inputs never escape the reader', () => {
  it('has fixtures to mutate', () => assert.ok(fixtures.length >= 4));
  for (const name of fixtures) {
    const good = new Uint8Array(readFileSync(join(imageFixtures, name)));
    it(name, () => {
      for (const m of mutations) {
        const bad = m.apply(good);
        const report = analyze(bad, { path: `${name} (${m.name})` });
        if (report.status === 'error') {
          assert.ok(report.error && !report.error.includes('\n'), `${m.name}: one-line error`);
          assert.notEqual(report.errorCode, 'INTERNAL_ERROR', `${m.name}: a reader problem, not a bug of ours: ${report.error}`);
        } else {
          // The verdict follows from the findings (worst severity), and no rule failed on a bug.
          const worst = report.findings.some((f) => f.severity === 'error') ? 'incompatible' : report.findings.some((f) => f.severity === 'warning') ? 'warnings' : 'compatible';
          assert.equal(report.verdict, worst, m.name);
          assert.deepEqual((report.incompleteAnalysis ?? []).filter((i) => /internal error/.test(i.reason)), [], `${m.name}: no rule failed on a bug`);
          for (const p of report.problems) assert.ok(!p.message.includes('\n'), `${m.name}: one-line problem`);
        }
      }
    });
  }

  it('records structural problems as data with offsets', () => {
    const good = new Uint8Array(readFileSync(join(imageFixtures, fixtures[0] as string)));
    const overlap = mutations.find((m) => m.name.startsWith('all sections overlap'))!;
    const r = analyze(overlap.apply(good));
    assert.equal(r.status, 'analyzed');
    assert.ok(r.problems.some((p) => p.code === 'SECTIONS_OVERLAP' && typeof p.offset === 'number'), JSON.stringify(r.problems));
    const lying = mutations.find((m) => m.name.startsWith('every section claims 4 GiB'))!;
    const r2 = analyze(lying.apply(good));
    assert.ok(r2.problems.some((p) => p.code === 'SECTION_DATA_OUTSIDE_FILE'));
    const sections = mutations.find((m) => m.name === 'NumberOfSections 0xFFFF')!;
    const r3 = analyze(sections.apply(good));
    assert.ok(r3.problems.some((p) => p.code === 'SECTION_TABLE_TRUNCATED'));
  });

  it('the CLI reports every mutated file and finishes the scan', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvci-mutants-'));
    const good = new Uint8Array(readFileSync(join(imageFixtures, fixtures[0] as string)));
    mutations.forEach((m, i) => writeFileSync(join(dir, `m${String(i).padStart(2, '0')}.sys`), m.apply(good)));
    writeFileSync(join(dir, 'zz-good.sys'), good);
    const r = runCli(['scan', '--format', 'json', dir]);
    assert.ok(!/internal error/.test(r.stderr), r.stderr);
    const report = JSON.parse(r.stdout) as { files: Array<{ path: string; status: string }> };
    assert.equal(report.files.length, mutations.length + 1);
    assert.equal(report.files.at(-1)?.status, 'analyzed', 'the good file after the bad ones is still analysed');
    const errorLines = r.stderr.trim().split('\n').filter(Boolean);
    assert.equal(errorLines.length, report.files.filter((f) => f.status === 'error').length);
  });
});
