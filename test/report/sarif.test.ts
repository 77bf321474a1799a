import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type * as Sarif from 'sarif';
import { runCli } from '../helpers/cli.js';
import { corpusDir, repoRoot } from '../helpers/paths.js';
import { corpusSkip } from '../helpers/corpus.js';
import { rules } from '../../src/rules/index.js';
import { SARIF_FINGERPRINT_KEY } from '../../src/report/fingerprint.js';
import { sarifSchemaErrors } from './sarif-schema.js';

const sarifOf = (args: string[]): { log: Sarif.Log; status: number } => {
  const r = runCli(['scan', '--format', 'sarif', ...args]);
  assert.ok(!/internal error/.test(r.stderr), r.stderr);
  return { log: JSON.parse(r.stdout) as Sarif.Log, status: r.status };
};
const runOf = (log: Sarif.Log) => log.runs[0] as Sarif.Run;

describe('the schema check itself', () => {
  it('rejects a log the official schema forbids', () => {
    assert.notDeepEqual(sarifSchemaErrors({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), []);
    assert.notDeepEqual(sarifSchemaErrors({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: {} }] }] }), []);
  });
});

describe('SARIF of the corpus scan', { skip: corpusSkip() }, () => {
  let log: Sarif.Log;
  let status: number;
  before(() => ({ log, status } = sarifOf(['--root', corpusDir, corpusDir])));

  it('validates against the official SARIF 2.1.0 schema', () => {
    assert.deepEqual(sarifSchemaErrors(log), []);
    assert.equal(status, 1, 'same exit code as the other formats');
  });
  it('describes the tool and every rule for GitHub code scanning', () => {
    const driver = runOf(log).tool.driver;
    assert.equal(driver.name, 'hvci');
    assert.match(driver.version ?? '', /^\d+\.\d+\.\d+/);
    assert.match(driver.informationUri ?? '', /^https:\/\//);
    assert.deepEqual(driver.rules?.map((r) => r.id), rules.map((r) => r.meta.id));
    for (const r of driver.rules ?? []) {
      assert.ok(r.name && /^[A-Z][A-Za-z0-9]+$/.test(r.name), r.id);
      assert.ok(r.shortDescription?.text && r.fullDescription?.text, r.id);
      assert.ok(r.help?.text && r.help.markdown?.includes(`# \`${r.id}\``), r.id);
      assert.match(r.helpUri ?? '', new RegExp(`^https://.*/docs/rules/${r.id}\\.md$`));
      assert.ok(['error', 'warning', 'note'].includes(r.defaultConfiguration?.level ?? ''), r.id);
    }
  });
  it('gives every result a rule, a level, a message that stands alone, a location and a fingerprint', () => {
    const run = runOf(log);
    const results = run.results ?? [];
    assert.ok(results.length > 10, `only ${results.length} results`);
    for (const r of results) {
      const rule = run.tool.driver.rules?.[r.ruleIndex as number];
      assert.equal(rule?.id, r.ruleId);
      assert.ok(r.level === 'error' || r.level === 'warning' || r.level === 'note');
      assert.match(r.message.text ?? '', /^[^:]+\.(sys|dll|exe|efi|bin|[a-z0-9_]+): .+ Fix: .+/i);
      const loc = r.locations?.[0]?.physicalLocation;
      assert.ok(loc?.artifactLocation?.uri, 'artifact URI');
      assert.equal(loc.artifactLocation.uriBaseId, 'SCANROOT');
      assert.ok(!loc.artifactLocation.uri.startsWith('/') && !loc.artifactLocation.uri.includes('..'), loc.artifactLocation.uri);
      if (loc.region) assert.ok(loc.region.byteOffset !== undefined && (loc.region.byteLength ?? 0) > 0);
      assert.match(r.partialFingerprints?.[SARIF_FINGERPRINT_KEY] ?? '', /^v1:[0-9a-f]{32}(:\d+)?$/);
    }
  });
  it('points each result at the scanned file, relative to the scan root', () => {
    const run = runOf(log);
    assert.equal(run.originalUriBaseIds?.SCANROOT?.uri, `file://${corpusDir}/`);
    const uris = new Set((run.artifacts ?? []).map((a) => a.location?.uri));
    assert.ok(uris.has('wine/x86_64-windows/ntoskrnl.exe'), [...uris].slice(0, 5).join(' '));
    for (const r of run.results ?? []) {
      const loc = r.locations?.[0]?.physicalLocation?.artifactLocation;
      assert.equal(run.artifacts?.[loc?.index as number]?.location?.uri, loc?.uri);
    }
  });
  it('turns unreadable files into notifications, not results', () => {
    // Rules not applied to a file are notes of their own (RULE_NOT_APPLICABLE): not about reading.
    const notes = (runOf(log).invocations?.[0]?.toolExecutionNotifications ?? []).filter((n) => n.descriptor?.id !== 'RULE_NOT_APPLICABLE');
    assert.ok(notes.length >= 1);
    assert.ok(notes.every((n) => n.level === 'error' && /could not be analysed/.test(n.message.text ?? '')));
  });
});

describe('SARIF of the fixtures', () => {
  const bin = 'test/fixtures/image/bin';
  it('puts RVA, section and file offset in the message and properties, with a byte region', () => {
    const { log } = sarifOf([`${bin}/wx_section.x64.mingw.sys`]);
    assert.deepEqual(sarifSchemaErrors(log), []);
    const r = (runOf(log).results ?? []).find((x) => x.ruleId === 'execute-write-section');
    assert.ok(r);
    assert.match(r.message.text ?? '', /^wx_section\.x64\.mingw\.sys: Section '\.rwx' is writable and executable .* At RVA 0x3000, section \.rwx, file offset 0x1D8\. Fix: /);
    assert.deepEqual(r.locations?.[0]?.physicalLocation?.region, { byteOffset: 0x1d8, byteLength: 40 });
    assert.equal(r.locations?.[0]?.physicalLocation?.artifactLocation?.uri, `${bin}/wx_section.x64.mingw.sys`);
    assert.deepEqual([r.properties?.rva, r.properties?.section], ['0x3000', '.rwx']);
    assert.equal(r.message.id, 'wx');
    assert.deepEqual(r.message.arguments, ['.rwx', '0xE0000020', 'R W X']);
  });
  it('files outside the scan root get absolute file: URIs', () => {
    const { log } = sarifOf(['--root', 'test', `${bin}/wx_section.x64.mingw.sys`]);
    const uri = runOf(log).results?.[0]?.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? '';
    assert.ok(uri.startsWith('test/') === false && uri.startsWith('fixtures/'), uri);
    const outside = sarifOf(['--root', 'src', `${bin}/wx_section.x64.mingw.sys`]).log;
    const uri2 = runOf(outside).results?.[0]?.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? '';
    assert.equal(uri2, `file://${join(repoRoot, bin, 'wx_section.x64.mingw.sys')}`);
  });
  it('fingerprints are equal for a rebuild with one unrelated function added', () => {
    const fp = 'test/fixtures/fingerprint/bin';
    const { log } = sarifOf([`${fp}/base.x64.mingw.sys`, `${fp}/extra.x64.mingw.sys`]);
    assert.deepEqual(sarifSchemaErrors(log), []);
    const byFile = (name: string) =>
      (runOf(log).results ?? [])
        .filter((r) => r.locations?.[0]?.physicalLocation?.artifactLocation?.uri?.endsWith(name))
        .map((r) => `${r.ruleId} ${r.partialFingerprints?.[SARIF_FINGERPRINT_KEY]}`)
        .sort();
    const base = byFile('base.x64.mingw.sys');
    assert.ok(base.length >= 1);
    assert.deepEqual(byFile('extra.x64.mingw.sys'), base);
  });
});
