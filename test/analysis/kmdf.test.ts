/**
 * KMDF function-table calls (rule book §2 "KMDF methods are not imported") against our own
 * C fixture test/fixtures/kmdf/src/kmdf.c. Expected RVAs come from the objdump/nm oracle
 * that test/fixtures/kmdf/build.sh writes (FIXTURES.tsv, <binary>.calls.tsv,
 * <binary>.globals.tsv), never from our output; verdicts come from the @expect lines.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeCalls } from '../../src/analysis/call-analysis.js';
import { CodeModel } from '../../src/analysis/code-model.js';
import { findKmdfBindings, findKmdfCallSites, KMDF_FUNCTIONS } from '../../src/analysis/kmdf.js';
import { analyze } from '../../src/analyze.js';
import { parsePe, type PeImage } from '../../src/pe/index.js';
import { findRule } from '../../src/rules/index.js';
import type { Rule } from '../../src/rules/types.js';
import { callFixtures, repoRoot } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';

const kmdfFixtures = join(repoRoot, 'test', 'fixtures', 'kmdf', 'bin');
const rows = readTsv(join(kmdfFixtures, 'FIXTURES.tsv'));
const files = [...new Set(rows.map((r) => r.file as string))];
const hex = (n: number | undefined): string => (n === undefined ? '-' : `0x${n.toString(16)}`);
const poolRule = findRule('execute-pool-type') as Rule;

function load(dir: string, file: string): { bytes: Uint8Array; image: PeImage } {
  const bytes = new Uint8Array(readFileSync(join(dir, file)));
  const parsed = parsePe(bytes);
  assert.ok(parsed.ok);
  return { bytes, image: parsed.image };
}

function withModel<T>(image: PeImage, f: (m: CodeModel) => T): T {
  const model = new CodeModel(image);
  try {
    return f(model);
  } finally {
    model.reader.dispose();
  }
}

describe('KMDF function-table calls', () => {
  it('has the fixtures (x64 and x86, exec and NX twins)', () => {
    assert.deepEqual(files.sort(), ['kmdf.x64.mingw-O2.sys', 'kmdf.x86.mingw-O2.sys']);
    assert.equal(rows.length, 10);
  });

  for (const file of files) {
    const mine = rows.filter((r) => r.file === file);
    describe(file, () => {
      it('finds the table global from the bind info (nm oracle)', () => {
        const globals = new Map(readTsv(join(kmdfFixtures, `${file}.globals.tsv`)).map((r) => [r.name, r.rva]));
        const { image } = load(kmdfFixtures, file);
        const bindings = withModel(image, (m) => findKmdfBindings(m));
        assert.deepEqual(
          bindings.map((b) => [hex(b.tableRva), hex(b.bindInfoRva), b.funcCount]),
          [[globals.get('WdfFunctions_01015'), globals.get('WdfBindInfo'), 444]],
        );
      });

      it('finds exactly the table calls objdump finds, at the oracle RVA and function', () => {
        const oracle = readTsv(join(kmdfFixtures, `${file}.calls.tsv`))
          .map((r) => `${r.call_rva} ${KMDF_FUNCTIONS.get(Number(r.idx)) ?? `#${r.idx}`} in ${r.function_rva}`)
          .sort();
        const { image } = load(kmdfFixtures, file);
        const analysis = analyzeCalls(image);
        assert.ok(analysis.supported);
        const got = analysis.calls.map((c) => `${hex(c.callRva)} ${c.api} in ${hex(c.functionRva)}`).sort();
        assert.deepEqual(got, oracle);
        assert.ok(analysis.calls.every((c) => c.form === 'kmdf-table' && c.dll === 'Wdf01000.sys'));
      });

      for (const row of mine) {
        it(`${row.function}: ${row.api} ${row.value_name} (actual arg ${row.arg}) is ${row.verdict}`, () => {
          const { bytes, image } = load(kmdfFixtures, file);
          const analysis = analyzeCalls(image);
          assert.ok(analysis.supported);
          const call = analysis.calls.find((c) => hex(c.callRva) === row.call_rva);
          assert.ok(call, `a call at ${row.call_rva}`);
          assert.equal(call.api, row.api);
          assert.equal(hex(call.functionRva), row.function_rva);
          assert.equal(call.argument?.index, Number(row.arg));
          assert.deepEqual(
            call.values.map((v) => v.raw),
            [row.value],
          );
          assert.equal(call.verdict, row.verdict === 'exec' ? 'executable' : 'compatible');

          const findings = analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: [poolRule] }).findings.filter(
            (f) => f.ruleId === 'execute-pool-type' && hex(f.rva) === row.call_rva,
          );
          if (row.verdict === 'exec') {
            assert.equal(findings.length, 1, `one finding at ${row.call_rva}`);
            assert.equal(findings[0]?.severity, 'error');
            assert.equal(findings[0]?.evidence?.functionRva, row.function_rva);
          } else {
            assert.deepEqual(
              findings.map((f) => f.message),
              [],
            );
          }
        });
      }

      it('execute-pool-type reports nothing else', () => {
        const { bytes } = load(kmdfFixtures, file);
        const expected = new Set(mine.filter((r) => r.verdict === 'exec').map((r) => r.call_rva));
        const got = analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: [poolRule] }).findings.filter((f) => f.ruleId === 'execute-pool-type');
        assert.deepEqual(got.map((f) => hex(f.rva)).sort(), [...expected].sort());
      });
    });
  }

  it('finds no table without a KmdfLibrary bind info (ntoskrnl-only fixture)', () => {
    const file = 'pool.x64.mingw-O2.sys';
    if (!existsSync(join(callFixtures, file))) return;
    const { image } = load(callFixtures, file);
    withModel(image, (m) => {
      assert.deepEqual(findKmdfBindings(m), []);
      assert.deepEqual(findKmdfCallSites(m), []);
    });
  });
});
