/**
 * Source lines in every report format, through the real CLI: text and HTML show
 * src/rx.c:16, SARIF puts results on the source line (valid against the official schema),
 * --format github prints workflow commands on the same lines; the PDB is found beside the
 * driver, through --pdb, and refused with a note for a rebuilt driver.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type * as Sarif from 'sarif';
import { escapeData, escapeProperty } from '../../src/report/github.js';
import type { ScanReport } from '../../src/report/model.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { sarifSchemaErrors } from '../report/sarif-schema.js';

const BIN = 'test/fixtures/pdb/bin';
const SRC_ROOT = 'test/fixtures/pdb';
const DRIVERS = [`${BIN}/rxdrv.x64.sys`, `${BIN}/rxdrv.x86.sys`];

/** "@expect" marks of the fixture sources, as repository paths: test/fixtures/pdb/src/rx.c:16. */
function marked(): string[] {
  const out: string[] = [];
  for (const file of ['rx.c', 'util.c', 'pool.h']) {
    readFileSync(join(repoRoot, SRC_ROOT, 'src', file), 'utf8')
      .split('\n')
      .forEach((l, i) => {
        if (/@expect (execute-pool-type|inline)/.test(l)) out.push(`${SRC_ROOT}/src/${file}:${i + 1}`);
      });
  }
  return out.sort();
}

describe('source lines in the reports (CLI, --source-root, PDBs found beside the drivers)', () => {
  let json: ScanReport;
  before(() => {
    const r = runCli(['scan', '--format', 'json', '--fail-on', 'none', '--source-root', SRC_ROOT, ...DRIVERS]);
    assert.equal(r.status, 0, r.stderr);
    json = JSON.parse(r.stdout) as ScanReport;
  });

  it('JSON: the PDB beside each driver is used; every call-site finding is on a marked line of this checkout', () => {
    for (const f of json.files) assert.deepEqual(f.pdb, { path: f.path.replace(/\.sys$/, '.pdb'), status: 'used' });
    for (const f of json.files) {
      const at = f.findings.filter((x) => x.ruleId === 'execute-pool-type').map((x) => `${x.source?.file}:${x.source?.line}`);
      assert.deepEqual(at.sort(), marked());
      for (const x of f.findings.filter((y) => y.source)) assert.match(x.source?.buildFile ?? '', /^D:\\a\\drv\\src\\/);
    }
  });

  it('text: "at src/…:line in Function", proof steps and the wrapper path with their lines', () => {
    const r = runCli(['scan', '--fail-on', 'none', '--source-root', SRC_ROOT, DRIVERS[0] as string]);
    assert.match(r.stdout, /source lines and function names from test\/fixtures\/pdb\/bin\/rxdrv\.x64\.pdb/);
    assert.match(r.stdout, /at test\/fixtures\/pdb\/src\/rx\.c:16 in AllocateRxBuffer · RVA 0x100B/);
    assert.match(r.stdout, /xor ecx, ecx {2}\(test\/fixtures\/pdb\/src\/util\.c:8\)/);
    assert.match(r.stdout, /path: {2}AllocateRing \(test\/fixtures\/pdb\/src\/rx\.c:32\) → AllocateTyped \(test\/fixtures\/pdb\/src\/util\.c:14\)/);
    assert.doesNotMatch(r.stdout, /sub_[0-9a-f]+/);
  });

  it('text: --no-pdb-lookup leaves the RVAs and sub_ names', () => {
    const r = runCli(['scan', '--fail-on', 'none', '--no-pdb-lookup', DRIVERS[0] as string]);
    assert.match(r.stdout, /in sub_1000 requests/);
    assert.doesNotMatch(r.stdout, /rx\.c/);
  });

  it('HTML: the source place of each finding and its instructions', () => {
    const r = runCli(['scan', '--format', 'html', '--fail-on', 'none', '--source-root', SRC_ROOT, DRIVERS[0] as string]);
    assert.match(r.stdout, /<code class="source">test\/fixtures\/pdb\/src\/pool\.h:11<\/code> in <code>PrepareTrampoline<\/code>/);
    assert.match(r.stdout, /call qword ptr \[0x[0-9a-f]+\] {2}; ExAllocatePool2 {2}; test\/fixtures\/pdb\/src\/pool\.h:11/);
  });

  it('SARIF: valid against the official schema; results on the source file and startLine, the binary as related location', () => {
    const r = runCli(['scan', '--format', 'sarif', '--fail-on', 'none', '--source-root', SRC_ROOT, ...DRIVERS]);
    const log = JSON.parse(r.stdout) as Sarif.Log;
    assert.deepEqual(sarifSchemaErrors(log), []);
    const results = log.runs[0]?.results ?? [];
    const findings = json.files.flatMap((f) => f.findings);
    assert.equal(results.length, findings.length);
    const onLines = results.filter((x) => x.locations?.[0]?.physicalLocation?.region?.startLine !== undefined);
    assert.equal(onLines.length, findings.filter((f) => f.source?.line !== undefined).length);
    assert.equal(onLines.length, 8, 'four call-site findings per driver');
    for (const x of onLines) {
      const loc = x.locations?.[0]?.physicalLocation;
      assert.equal(loc?.artifactLocation?.uriBaseId, 'SCANROOT');
      assert.ok(marked().includes(`${loc?.artifactLocation?.uri}:${loc?.region?.startLine}`), JSON.stringify(loc));
      const related = x.relatedLocations?.[0]?.physicalLocation;
      assert.match(related?.artifactLocation?.uri ?? '', /^test\/fixtures\/pdb\/bin\/rxdrv\.x(64|86)\.sys$/);
      assert.ok((related?.region?.byteOffset ?? 0) > 0);
    }
  });

  it('SARIF: a build path that is not in this checkout leaves the result on the binary', () => {
    const r = runCli(['scan', '--format', 'sarif', '--fail-on', 'none', DRIVERS[0] as string]);
    const log = JSON.parse(r.stdout) as Sarif.Log;
    assert.deepEqual(sarifSchemaErrors(log), []);
    for (const x of log.runs[0]?.results ?? []) assert.match(x.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? '', /\.sys$/);
  });

  it('--format github: one workflow command per finding, on the marked source lines (or the binary), escaped as GitHub reads them', () => {
    const r = runCli(['scan', '--format', 'github', '--source-root', SRC_ROOT, ...DRIVERS]);
    assert.equal(r.status, 1, 'errors fail the job as in every format');
    const lines = r.stdout.trimEnd().split('\n');
    const commands = lines.filter((l) => l.startsWith('::')).map(parseCommand);
    assert.equal(commands.length, json.files.reduce((n, f) => n + f.findings.length, 0));
    const placed = commands.filter((c) => c.properties.line !== undefined);
    assert.deepEqual(placed.map((c) => `${c.properties.file}:${c.properties.line}`).sort(), [...marked(), ...marked()].sort());
    for (const c of commands) {
      assert.equal(c.command, 'error');
      assert.match(c.properties.title ?? '', /^hvci (execute-pool-type|execute-write-section)$/);
      assert.match(c.message, /\nFix: /);
      if (c.properties.line === undefined) assert.match(c.properties.file ?? '', /\.sys$/);
    }
    assert.match(lines.at(-1) ?? '', /^hvci: 2 files: 2 incompatible/);
  });

  it('--format github: a rebuilt driver gets a notice that its PDB was ignored', () => {
    const r = runCli(['scan', '--format', 'github', '--pdb', `${BIN}/rxdrv.x64.pdb`, `${BIN}/rxdrv.x64.rebuilt.sys`]);
    const notice = r.stdout.split('\n').find((l) => l.startsWith('::notice'));
    assert.ok(notice, r.stdout);
    const c = parseCommand(notice);
    assert.equal(c.properties.file, `${BIN}/rxdrv.x64.rebuilt.sys`);
    assert.equal(c.properties.title, 'hvci: PDB not used');
    assert.match(c.message, /rxdrv\.x64\.pdb was ignored: it belongs to another build/);
  });
});

describe('workflow command escaping (GitHub toolkit rules)', () => {
  it('data: % CR LF', () => assert.equal(escapeData('100% done\r\nnext'), '100%25 done%0D%0Anext'));
  it('properties: also : and ,', () => assert.equal(escapeProperty('C:\\a,b%\n'), 'C%3A\\a%2Cb%25%0A'));
});

/** Reads `::cmd k=v,k=v::message` back, undoing GitHub's escapes (as the runner does). */
function parseCommand(line: string): { command: string; properties: Record<string, string>; message: string } {
  const m = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line);
  assert.ok(m, line);
  const unescape = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  const properties: Record<string, string> = {};
  for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
    const at = kv.indexOf('=');
    properties[kv.slice(0, at)] = unescape(kv.slice(at + 1));
  }
  return { command: m[1] as string, properties, message: unescape(m[3] as string) };
}
