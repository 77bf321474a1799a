/** The PDB reader against llvm-pdbutil's dump of each fixture PDB (recorded by build.sh). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePdb, type Pdb } from '../../src/pdb/index.js';
import { pdbFixtures, pdbutilDump } from '../helpers/pdbutil.js';

export function fixturePdb(name: string): Pdb {
  const r = parsePdb(new Uint8Array(readFileSync(join(pdbFixtures, `${name}.pdb`))));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.pdb;
}

for (const name of ['rxdrv.x64', 'rxdrv.x86']) {
  describe(`PDB reader agrees with llvm-pdbutil: ${name}`, () => {
    const pdb = fixturePdb(name);
    const oracle = pdbutilDump(name);

    it('reads the whole PDB without problems', () => {
      assert.deepEqual(pdb.problems, []);
      assert.equal(oracle.modules.length, 3, 'the oracle lists two object files and the linker module');
    });

    it('GUID and age', () => {
      assert.equal(pdb.info.guid, oracle.guid);
      assert.equal(pdb.age, oracle.age);
    });

    it('modules and their source files', () => {
      assert.deepEqual(
        pdb.modules.map((m) => [m.name, m.files]),
        oracle.modules.map((m) => [m.name, m.files]),
      );
    });

    it('line tables', () => {
      for (const [i, m] of oracle.modules.entries()) {
        const ours = (pdb.modules[i]?.lines ?? []).map((l) => [l.file, l.segment, l.offset, l.line]);
        assert.deepEqual(ours, m.lines, m.name);
      }
      assert.ok(oracle.modules.some((m) => m.lines.some(([f]) => f.endsWith('util.c'))), 'lines from the second source file');
    });

    it('procedures (S_GPROC32 and S_LPROC32)', () => {
      for (const [i, m] of oracle.modules.entries()) {
        const ours = (pdb.modules[i]?.procedures ?? []).map((p) => ({ kind: p.global ? 'S_GPROC32' : 'S_LPROC32', name: p.name, section: p.segment, offset: p.offset, length: p.length }));
        assert.deepEqual(ours, m.procedures, m.name);
      }
      assert.ok(oracle.modules.some((m) => m.procedures.some((p) => p.kind === 'S_LPROC32')), 'a static function');
    });

    it('public symbols (S_PUB32)', () => {
      const sort = <T extends { name: string }>(a: T[]) => [...a].sort((x, y) => x.name.localeCompare(y.name));
      assert.deepEqual(
        sort(pdb.publics.map((p) => ({ name: p.name, isFunction: p.isFunction, section: p.segment, offset: p.offset }))),
        sort(oracle.publics),
      );
    });

    it('DBI section contributions and section map', () => {
      assert.ok(oracle.contributions.length > 3 && oracle.sectionMap.length > 3);
      assert.deepEqual(
        pdb.dbi?.sectionContributions.map((c) => ({ module: c.module, section: c.section, offset: c.offset, size: c.size })),
        oracle.contributions,
      );
      assert.deepEqual(pdb.dbi?.sectionMap.map((e) => ({ frame: e.frame, offset: e.offset, length: e.length })), oracle.sectionMap);
    });

    it('inlined code: inlinee lines and inline-site ranges', () => {
      const sites = oracle.modules.flatMap((m) => m.inlineSites.map((s) => ({ s, m })));
      assert.equal(sites.length, 1, 'AllocateExecutable is inlined once');
      for (const { s, m } of sites) {
        const start = m.inlinees.find((x) => x.id === s.inlinee);
        const proc = m.procedures.find((p) => p.name === s.procedure);
        assert.ok(start && proc);
        const ours = pdb.modules.flatMap((x) => x.inlined).flatMap((x) => x.ranges);
        assert.deepEqual(
          ours.map((r) => [r.file, r.offset, r.offset + r.length, r.line]),
          s.ranges.map((r) => [start.file, proc.offset + r.start, proc.offset + r.end, start.line + r.lineOffset]),
        );
      }
    });
  });
}
