/**
 * KMDF function-table calls (rule book §2 "KMDF methods are not imported") against our own
 * C fixtures: test/fixtures/kmdf/src/kmdf.c (KMDF 1.15+ pointer global) and kmdf-array.c
 * (older in-driver table; built with mingw -O2 / -O0, i686, and clang with Control Flow
 * Guard; and for ARM64 with clang, issue 14). Expected RVAs come from the objdump/nm oracle that
 * test/fixtures/kmdf/build.sh writes (FIXTURES.tsv, <binary>.calls.tsv, .globals.tsv, .syms.tsv),
 * and build-arm64.sh from llvm-objdump/llvm-nm (FIXTURES-arm64.tsv, same files), never from
 * our output; verdicts come from the @expect lines.
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
const rows = [...readTsv(join(kmdfFixtures, 'FIXTURES.tsv')), ...readTsv(join(kmdfFixtures, 'FIXTURES-arm64.tsv'))];
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
  it('has the fixtures (both table forms, x64, x86 and ARM64, CFG, exec and NX twins)', () => {
    assert.deepEqual(files.sort(), [
      'kmdf-array.arm64.clang-O2.sys',
      'kmdf-array.x64.clang-cfg.sys',
      'kmdf-array.x64.mingw-O0.sys',
      'kmdf-array.x64.mingw-O2.sys',
      'kmdf-array.x86.mingw-O2.sys',
      'kmdf.arm64.clang-O2.sys',
      'kmdf.x64.mingw-O2.sys',
      'kmdf.x86.mingw-O2.sys',
    ]);
    assert.deepEqual([...new Set(rows.map((r) => r.form))].sort(), ['array', 'array-cfg', 'array-reg', 'pointer']);
    assert.ok(rows.some((r) => r.verdict === 'exec') && rows.some((r) => r.verdict === 'nx'));
  });

  for (const file of files) {
    const mine = rows.filter((r) => r.file === file);
    // kmdf.c declares KMDF 1.15 (pointer global, 444 entries), kmdf-array.c KMDF 1.11 (432).
    const pointerForm = file.startsWith('kmdf.');
    const globals = new Map(readTsv(join(kmdfFixtures, `${file}.globals.tsv`)).map((r) => [r.name, r.rva]));
    const symbolRvas = new Map(readTsv(join(kmdfFixtures, `${file}.syms.tsv`)).map((r) => [r.name as string, Number(r.rva)]));
    // x86 symbols carry "_" (and "@n" for stdcall).
    const syms = {
      get: (name: string): number | undefined =>
        symbolRvas.get(name) ?? symbolRvas.get(`_${name}`) ?? [...symbolRvas].find(([k]) => k.startsWith(`_${name}@`))?.[1],
    };
    describe(file, () => {
      it('finds the table from the bind info (nm oracle)', () => {
        const { image } = load(kmdfFixtures, file);
        const bindings = withModel(image, (m) => findKmdfBindings(m));
        assert.deepEqual(
          bindings.map((b) => [hex(b.tableRva), hex(b.bindInfoRva), b.funcCount, b.form, b.version]),
          [
            pointerForm
              ? [globals.get('WdfFunctions_01015'), globals.get('WdfBindInfo'), 444, 'pointer', '1.15']
              : [globals.get('WdfFunctions'), globals.get('WdfBindInfo'), 432, 'array', '1.11'],
          ],
        );
      });

      if (globals.has('__guard_dispatch_icall_fptr')) {
        it('reads the CFG dispatch and check pointers from the load config (nm oracle)', () => {
          const { image } = load(kmdfFixtures, file);
          const lc = image.loadConfig;
          const base = image.optionalHeader.imageBase;
          assert.equal(hex(Number((lc?.guardDispatchFunctionPointer ?? 0n) - base)), globals.get('__guard_dispatch_icall_fptr'));
          assert.equal(hex(Number((lc?.guardCheckFunctionPointer ?? 0n) - base)), globals.get('__guard_check_icall_fptr'));
        });
      }

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
          // A separate load of the entry (call reg, CFG dispatch) is named as `via`; a direct call has none.
          assert.equal(call.viaRva !== undefined, row.form === 'array-reg' || row.form === 'array-cfg' || row.form === 'pointer');
          // The disassembly comment names the table index and, for CFG builds, the dispatch routine.
          assert.ok(call.callText.includes(`KMDF function table #${row.idx}`), call.callText);
          assert.equal(call.callText.includes('CFG dispatch'), row.form === 'array-cfg', call.callText);
          assert.equal(call.argument?.index, Number(row.arg));
          assert.deepEqual(
            call.values.map((v) => v.raw),
            [row.value],
          );
          assert.equal(call.verdict, row.verdict === 'exec' ? 'executable' : 'compatible');

          const findings = analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: [poolRule] }).findings.filter(
            (f) => f.ruleId === 'execute-pool-type' && hex(f.rva) === row.call_rva,
          );
          if (row.verdict === 'exec' && row.function === 'mem_wrap') {
            // The value comes from mem_wrap's parameter: reported at its caller, wrap_caller (kmdf-array.c).
            assert.deepEqual(findings, [], 'not at the wrapper');
            const atCaller = analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: [poolRule] }).findings.filter(
              (f) => Number(f.evidence?.functionRva) === syms.get('wrap_caller'),
            );
            assert.equal(atCaller.length, 1, 'one finding in wrap_caller');
            assert.ok(
              (atCaller[0]?.rva ?? 0) > (syms.get('wrap_caller') as number) && (atCaller[0]?.rva ?? 0) < (syms.get('DriverEntry') as number),
              'at the call inside wrap_caller',
            );
            // Stripped images name functions by RVA. The message names the wrapper the caller calls
            // and where the wrapper calls the method (the oracle's call RVA), not the wrapper call as the API call.
            const wrapper = `sub_${(syms.get('mem_wrap') as number).toString(16)}`;
            assert.ok((atCaller[0]?.message ?? '').toLowerCase().includes(`${wrapper} (which calls ${row.api} at ${row.call_rva})`.toLowerCase()), atCaller[0]?.message);
          } else if (row.verdict === 'exec') {
            assert.equal(findings.length, 1, `one finding at ${row.call_rva}`);
            assert.equal(findings[0]?.severity, 'error');
            assert.equal(Number(findings[0]?.evidence?.functionRva), Number(row.function_rva));
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
        const direct = mine.filter((r) => r.verdict === 'exec' && r.function !== 'mem_wrap').map((r) => r.call_rva);
        const wrapped = mine.filter((r) => r.verdict === 'exec' && r.function === 'mem_wrap').length;
        const got = analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: [poolRule] }).findings.filter((f) => f.ruleId === 'execute-pool-type');
        assert.equal(got.length, direct.length + wrapped);
        for (const rva of direct) assert.ok(got.some((f) => hex(f.rva) === rva), `a finding at ${rva}`);
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
