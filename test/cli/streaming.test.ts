/** Streamed reports: every format is written file by file, and the pieces add up to the whole. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FileReport, ScanReport } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { imageFixtures } from '../helpers/paths.js';
import { reportSchemaErrors } from '../helpers/schema.js';

const inputs = ['wx_section.x64.mingw.sys', 'clean_driver.x64.mingw.sys', 'straddling_reloc.x64.clang.sys'].map((n) => join(imageFixtures, n));

describe('streamed reports', () => {
  const json = runCli(['scan', '-f', 'json', ...inputs]);
  const report = JSON.parse(json.stdout) as ScanReport;

  it('JSON: the streamed text is exactly JSON.stringify(report, null, 2) and valid against the schema', () => {
    assert.equal(json.status, 1);
    assert.equal(json.stdout, `${JSON.stringify(report, null, 2)}\n`);
    assert.deepEqual(reportSchemaErrors(report), []);
    assert.equal(report.files.length, 3);
  });

  it('JSONL: one line per file, then the summary line; together they are the JSON report', () => {
    const r = runCli(['scan', '-f', 'jsonl', ...inputs]);
    assert.equal(r.status, 1);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, inputs.length + 1);
    const last = lines.at(-1) as Omit<ScanReport, 'files'>;
    assert.ok('summary' in last && !lines.slice(0, -1).some((l) => 'summary' in l));
    const files = lines.slice(0, -1) as unknown as FileReport[];
    const assembled: ScanReport = { $schema: report.$schema ?? '', tool: last.tool, files, walkErrors: last.walkErrors, summary: last.summary };
    assert.deepEqual(reportSchemaErrors(assembled), []);
    assert.deepEqual(assembled, report);
  });

  it('SARIF and HTML carry every file, with the summary written last', () => {
    const sarif = runCli(['scan', '-f', 'sarif', ...inputs]);
    const log = JSON.parse(sarif.stdout) as { runs: Array<{ artifacts: unknown[]; tool: { driver: { rules: unknown[] } }; properties: { summary: { files: number } } }> };
    assert.equal(log.runs[0]?.artifacts.length, 3);
    assert.ok((log.runs[0]?.tool.driver.rules.length ?? 0) > 10);
    assert.equal(log.runs[0]?.properties.summary.files, 3);
    const html = runCli(['scan', '-f', 'html', ...inputs]).stdout;
    for (const i of [0, 1, 2]) assert.ok(html.includes(`id="file-${i}"`));
    assert.ok(html.indexOf('id="file-2"') < html.indexOf('class="summary-section"'), 'summary after the files in the source');
    assert.match(html, /\.page > \.summary-section \{ order: -1; \}/);
  });
});
