/**
 * Findings on source lines: every finding's file, line and function checked against
 * llvm-pdbutil's dump of the PDB (an independent reader) and against the "@expect" lines
 * of the C sources; a PDB of another build is refused with a note; a damaged one costs only
 * its own lines.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze, type AnalyzeOptions } from '../../src/analyze.js';
import type { FileReport, Finding } from '../../src/report/model.js';
import { pdbFixtures, pdbutilDump } from '../helpers/pdbutil.js';
import { repoRoot } from '../helpers/paths.js';
import { reportSchemaErrors } from '../helpers/schema.js';

const bytes = (name: string) => new Uint8Array(readFileSync(join(pdbFixtures, name)));
const run = (driver: string, options: AnalyzeOptions = {}) => analyze(bytes(driver), { path: driver, ...options });
const withPdb = (driver: string, pdb: string, pdbBytes = bytes(pdb)) => run(driver, { pdbs: [{ path: pdb, bytes: pdbBytes }] });

/** Lines marked "@expect <what>" in the fixture sources: "rx.c:16". */
function expectLines(): Map<string, string> {
  const marks = new Map<string, string>();
  for (const file of ['rx.c', 'util.c', 'pool.h']) {
    const lines = readFileSync(join(repoRoot, 'test', 'fixtures', 'pdb', 'src', file), 'utf8').split('\n');
    lines.forEach((l, i) => {
      const m = /@expect ([^*]+?)\s*\*\//.exec(l);
      if (m) marks.set(`${file}:${i + 1}`, m[1] as string);
    });
  }
  return marks;
}

/** The source place of .text offset `at` according to llvm-pdbutil: inline site first, then line table. */
function oracleSource(name: string, at: number): { file: string; line: number; function: string } | undefined {
  const dump = pdbutilDump(name);
  for (const m of dump.modules) {
    const proc = m.procedures.find((p) => p.section === 1 && p.offset <= at && at < p.offset + p.length);
    if (!proc) continue;
    for (const site of m.inlineSites.filter((s) => s.procedure === proc.name)) {
      const start = m.inlinees.find((x) => x.id === site.inlinee);
      const r = site.ranges.find((x) => proc.offset + x.start <= at && at < proc.offset + x.end);
      if (start && r) return { file: start.file, line: start.line + r.lineOffset, function: proc.name };
    }
    const before = m.lines.filter(([, sec, off]) => sec === 1 && off <= at && off >= proc.offset).sort((a, b) => a[2] - b[2]);
    const last = before.at(-1);
    if (last) return { file: last[0], line: last[3], function: proc.name };
  }
  return undefined;
}

const TEXT_RVA = 0x1000;
const callRva = (f: Finding) => parseInt(String((f.evidence?.call as { rva?: string } | undefined)?.rva), 16);

for (const arch of ['x64', 'x86']) {
  const name = `rxdrv.${arch}`;
  describe(`source lines from the PDB: ${name}`, () => {
    const report = withPdb(`${name}.sys`, `${name}.pdb`);
    const calls = report.findings.filter((f) => f.ruleId === 'execute-pool-type');

    it('the PDB is used, with no problems', () => {
      assert.deepEqual(report.pdb, { path: `${name}.pdb`, status: 'used' });
      assert.deepEqual(report.problems, []);
    });

    it('four call-site findings, each with file, line and function equal to llvm-pdbutil', () => {
      assert.equal(calls.length, 4);
      for (const f of calls) {
        const want = oracleSource(name, f.rva as number - TEXT_RVA);
        assert.ok(want, f.message);
        assert.deepEqual(f.source, want, f.message);
      }
    });

    it('each finding is on a line its source marks with @expect (two files, the inlined helper in pool.h)', () => {
      const marks = expectLines();
      const at = calls.map((f) => `${(f.source?.file ?? '').split('\\').pop()}:${f.source?.line}`).sort();
      const marked = [...marks].filter(([, what]) => what.startsWith('execute-pool-type') || what === 'inline').map(([k]) => k).sort();
      assert.deepEqual(at, marked);
    });

    it('proof instructions and the call carry file:line; the wrapper path names both files', () => {
      for (const f of calls) {
        const ev = f.evidence as { call: { rva: string; source?: unknown }; instructions: Array<{ rva: string; source?: { line?: number } }>; path: Array<{ callRva: string; source?: { file?: string; line?: number; function?: string } }> };
        // the API call itself: in the wrapper for a wrapper finding, else where the finding is
        assert.deepEqual(ev.call.source, oracleSource(name, parseInt(ev.call.rva, 16) - TEXT_RVA));
        for (const i of ev.instructions) assert.deepEqual(i.source, oracleSource(name, parseInt(i.rva, 16) - TEXT_RVA), i.rva);
        for (const p of ev.path) assert.deepEqual(p.source, oracleSource(name, parseInt(p.callRva, 16) - TEXT_RVA));
      }
      const wrapped = calls.find((f) => (f.evidence?.path as unknown[]).length === 2);
      assert.ok(wrapped, 'AllocateRing → AllocateTyped');
      const path = wrapped.evidence?.path as Array<{ function: string; source: { file: string; line: number } }>;
      assert.deepEqual(path.map((p) => p.function), ['AllocateRing', 'AllocateTyped']);
      assert.deepEqual(path.map((p) => p.source.file.split('\\').pop()), ['rx.c', 'util.c']);
      assert.equal(wrapped.source?.function, 'AllocateRing');
      assert.equal(path[0]?.source.line, wrapped.source?.line);
      assert.equal(callRva(wrapped) > 0 && (wrapped.evidence?.call as { source: { function: string } }).source.function, 'AllocateTyped');
    });

    it('function names from the PDB replace sub_<rva> in messages, arguments and checked calls', () => {
      for (const f of report.findings) assert.doesNotMatch(JSON.stringify(f), /sub_[0-9a-f]+/);
      assert.deepEqual(
        (report.checkedCalls ?? []).map((c) => c.function).sort(),
        ['AllocateRxBuffer', 'AllocateRxBufferNx', 'AllocateScratch', 'AllocateTyped', 'PrepareTrampoline'].sort(),
      );
    });

    it('the image rule finding (.data RWX) has no source line', () => {
      const image = report.findings.find((f) => f.ruleId === 'execute-write-section');
      assert.ok(image);
      assert.equal(image.source, undefined);
    });

    it('fingerprints are the same with and without the PDB (baselines keep matching)', () => {
      const plain = run(`${name}.sys`);
      assert.deepEqual(
        report.findings.map((f) => f.fingerprint),
        plain.findings.map((f) => f.fingerprint),
      );
      assert.match(plain.findings[0]?.message ?? '', /sub_1000/);
    });

    it('the report is valid against the JSON schema', () => {
      assert.deepEqual(schemaErrors(report), []);
    });
  });
}

describe('a PDB of another build, or a damaged one', () => {
  it('the rebuilt driver refuses rxdrv.x64.pdb with one note naming both GUIDs; no source lines, sub_ names stay', () => {
    const r = withPdb('rxdrv.x64.rebuilt.sys', 'rxdrv.x64.pdb');
    assert.equal(r.pdb?.status, 'ignored');
    assert.match(r.pdb?.note ?? '', /^rxdrv\.x64\.pdb was ignored: it belongs to another build \(PDB GUID [0-9A-F-]{36}, age 1; the driver's debug record wants GUID [0-9A-F-]{36}, age 1\)\.$/);
    assert.ok(r.findings.every((f) => f.source === undefined));
    assert.ok(r.findings.some((f) => /sub_1000/.test(f.message)));
    assert.deepEqual(schemaErrors(r), []);
  });

  it('the x86 PDB for the x64 driver: refused (GUID)', () => {
    assert.equal(withPdb('rxdrv.x64.sys', 'rxdrv.x86.pdb').pdb?.status, 'ignored');
  });

  it('a matching PDB after a wrong one: the matching one is used', () => {
    const r = run('rxdrv.x64.sys', { pdbs: [{ path: 'wrong.pdb', bytes: bytes('rxdrv.x86.pdb') }, { path: 'right.pdb', bytes: bytes('rxdrv.x64.pdb') }] });
    assert.deepEqual(r.pdb, { path: 'right.pdb', status: 'used' });
  });

  it('a truncated PDB: a clear problem, the note says it could not be read, the scan goes on', () => {
    const r = withPdb('rxdrv.x64.sys', 'rxdrv.x64.pdb', bytes('rxdrv.x64.pdb').subarray(0, 3000));
    assert.equal(r.status, 'analyzed');
    assert.equal(r.verdict, 'incompatible');
    assert.equal(r.pdb?.status, 'ignored');
    assert.match(r.pdb?.note ?? '', /could not be read as a PDB/);
    assert.ok(r.problems.some((p) => p.code.startsWith('PDB_') && p.message.startsWith('rxdrv.x64.pdb: ')), JSON.stringify(r.problems));
    assert.deepEqual(schemaErrors(r), []);
  });

  it('a PDB whose module stream is damaged: its problem is listed, the GUID still matches, other lines are kept', () => {
    const damaged = bytes('rxdrv.x64.pdb').slice();
    const r0 = withPdb('rxdrv.x64.sys', 'rxdrv.x64.pdb', damaged);
    assert.equal(r0.pdb?.status, 'used');
    // the DBI stream's size set to 4 GiB: modules gone, the info stream (GUID, age) intact
    const dv = new DataView(damaged.buffer);
    const bs = dv.getUint32(32, true);
    const dir = dv.getUint32(dv.getUint32(52, true) * bs, true) * bs;
    dv.setUint32(dir + 4 + 3 * 4, 0xfffffff0, true);
    const r = withPdb('rxdrv.x64.sys', 'rxdrv.x64.pdb', damaged);
    assert.equal(r.pdb?.status, 'used');
    assert.ok(r.problems.some((p) => p.code === 'PDB_STREAM_MALFORMED'));
    assert.ok(r.findings.every((f) => f.source === undefined || f.source.file === undefined));
    assert.deepEqual(schemaErrors(r), []);
  });
  it('a PDB whose file and function names are damaged to "": left out, never reported as "" (found by npm run fuzz)', () => {
    const damaged = bytes('rxdrv.x64.pdb').slice();
    const text = new TextDecoder('latin1').decode(damaged);
    // Every copy of the source path and of the fixture's function names cut to an empty C string.
    for (const name of ['D:\\a\\drv\\src\\rx.c\0', 'D:\\a\\drv/src/rx.c\0', 'AllocateRxBuffer\0', 'PrepareTrampoline\0', 'AllocateRing\0']) {
      for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) damaged[at] = 0;
    }
    const r = withPdb('rxdrv.x64.sys', 'rxdrv.x64.pdb', damaged);
    assert.equal(r.pdb?.status, 'used');
    const sources = r.findings.flatMap((f) => (f.source ? [f.source] : []));
    assert.ok(sources.length > 0, 'the line numbers are still there');
    for (const s of sources) {
      assert.notEqual(s.file, '');
      assert.notEqual(s.function, '');
    }
    assert.ok(!sources.some((s) => s.function === 'AllocateRxBuffer'), 'the damaged names are gone');
    assert.ok(sources.some((s) => s.file === undefined && s.line !== undefined), 'rx.c lines keep their number without a file');
    assert.deepEqual(schemaErrors(r), []);
  });
});

function schemaErrors(file: FileReport): string[] {
  return reportSchemaErrors(
    JSON.parse(
      JSON.stringify({
        tool: { name: 'hvci', version: '0.0.0', informationUri: 'https://example.invalid' },
        files: [file],
        walkErrors: [],
        summary: { files: 1, analyzed: 1, errors: 0, incompatible: 0, warnings: 0, compatible: 0, findings: { error: 0, warning: 0, note: 0 }, exitCode: 0 },
      }),
    ),
  );
}
