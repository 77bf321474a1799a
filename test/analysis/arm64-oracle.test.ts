/**
 * The ARM64 builds of the C fixtures (issue 14) and their oracle, checked now, before any
 * ARM64 call-site analysis exists: every image parses as ARM64 with the .pdata llvm-readobj
 * saw at build time (ARM64-FACTS.tsv), and every ARM64 FIXTURES.tsv row points at an
 * instruction of the kind its form names — the instruction words are decoded here from the
 * A64 encodings (Arm ARM), not by hvci — and at an oracle call site of its API.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePe, type PeImage } from '../../src/pe/index.js';
import { callFixtures } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';
import { allFixtureRows, hex, type Row } from './fixture-rows.js';

const arm64Files = readdirSync(callFixtures).filter((f) => /\.arm64\.clang-O[02]\.sys$/.test(f)).sort();
const facts = new Map(readTsv(join(callFixtures, 'ARM64-FACTS.tsv')).map((r) => [r.file as string, r]));
const arm64Rows = allFixtureRows.filter((r) => r.arch === 'arm64');

function image(file: string): PeImage {
  const parsed = parsePe(new Uint8Array(readFileSync(join(callFixtures, file))));
  assert.ok(parsed.ok, `${file} parses`);
  return parsed.image;
}
function word(img: PeImage, rva: number): number {
  const w = img.space.u32(rva);
  assert.ok(w !== undefined, `an instruction word at ${hex(rva)}`);
  return w;
}

// A64 encodings (Arm Architecture Reference Manual, C4/C6): the forms the oracle names.
const isBl = (w: number) => (w & 0xfc000000) >>> 0 === 0x94000000;
const isBlr = (w: number) => (w & 0xfffffc1f) >>> 0 === 0xd63f0000;
const isBr = (w: number) => (w & 0xfffffc1f) >>> 0 === 0xd61f0000;
/** LDR (immediate, unsigned offset), 64-bit: LDR Xt, [Xn, #imm12 * 8]. */
const isLdrX = (w: number) => (w & 0xffc00000) >>> 0 === 0xf9400000;
/** Loads and stores: op0 x1x0 (bits 27 and 25). */
const isLoadStore = (w: number) => (w & 0x0a000000) >>> 0 === 0x08000000;
const isAdrp = (w: number) => (w & 0x9f000000) >>> 0 === 0x90000000;
function blTarget(w: number, rva: number): number {
  const imm26 = w & 0x03ffffff;
  return rva + (imm26 & 0x02000000 ? imm26 - 0x04000000 : imm26) * 4;
}
/** The page ADRP at `rva` puts in its register (RVA-relative: ImageBase is page-aligned). */
function adrpPage(w: number, rva: number): number {
  const imm = (((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3);
  return (rva & ~0xfff) + (imm & 0x100000 ? imm - 0x200000 : imm) * 0x1000;
}
/** The slot LDR Xt, [Xn, #off] at `rva` reads, from the nearest ADRP Xn before it in the function. */
function ldrSlot(img: PeImage, rva: number, functionRva: number): number | undefined {
  const w = word(img, rva);
  const base = (w >>> 5) & 31;
  for (let at = rva - 4; at >= functionRva; at -= 4) {
    const v = word(img, at);
    if (isAdrp(v) && (v & 31) === base) return adrpPage(v, at) + ((w >>> 10) & 0xfff) * 8;
  }
  return undefined;
}

describe('ARM64 builds of the C fixtures: images (ARM64-FACTS.tsv, llvm-readobj at build time)', () => {
  it('has the ARM64 images, one ARM64-FACTS.tsv row each', () => {
    assert.ok(arm64Files.length >= 30, `${arm64Files.length} ARM64 images`);
    assert.deepEqual([...facts.keys()].sort(), arm64Files);
  });
  for (const file of arm64Files) {
    it(`${file}: ARM64, entry point and .pdata as llvm-readobj lists them`, () => {
      const fact = facts.get(file) as Row;
      const img = image(file);
      assert.equal(fact.machine, 'IMAGE_FILE_MACHINE_ARM64');
      assert.equal(img.machine, 0xaa64);
      assert.equal(hex(img.optionalHeader.addressOfEntryPoint), fact.entry_rva);
      const dir = img.directory(3);
      assert.equal(hex(dir?.virtualAddress), fact.pdata_rva);
      assert.equal(hex(dir?.size), fact.pdata_size);
      const table = img.exceptionTable;
      assert.ok(table.length > 0, 'built with -funwind-tables: .pdata entries');
      assert.equal(table.length, Number(fact.functions));
      assert.deepEqual(table.map((f) => hex(f.beginRva)), (fact.function_rvas as string).split(','));
      // Packed unwind data (Flag, the low two bits, not 0) has no .xdata record.
      assert.equal(table.filter((f) => (f.unwindData & 3) !== 0).length, Number(fact.packed));
      // Every .pdata entry starts a function or thunk the oracle (llvm-nm) knows.
      const starts = new Set(readTsv(join(callFixtures, `${file}.syms.tsv`)).map((r) => r.rva));
      for (const f of table) assert.ok(starts.has(hex(f.beginRva)), `.pdata entry ${hex(f.beginRva)} starts a known function`);
    });
  }
});

describe('ARM64 builds of the C fixtures: FIXTURES.tsv rows against the oracle and the instruction bytes', () => {
  it('has ARM64 rows for every ARM64 image', () => {
    for (const file of arm64Files) assert.ok(arm64Rows.some((r) => r.file === file), file);
  });
  it('expects on ARM64 what it expects on x64 (clang -O2), for every source built for ARM64', () => {
    // The same @expect lines; a scenario that exists only on x86/x64 is n/a on ARM64.
    const key = (r: Row, verdict = r.verdict) => [r.source, r.function, r.api, r.via, r.arg, r.value, verdict, r.rule].join(' ');
    for (const file of arm64Files) {
      const x64 = file.replace(/\.arm64\.clang-O[02]\./, '.x64.clang-O2.');
      const mine = arm64Rows.filter((r) => r.file === file);
      const notHere = new Set(mine.filter((r) => r.verdict === 'n/a').map((r) => key(r, '')));
      const want = allFixtureRows.filter((r) => r.file === x64 && r.verdict !== 'n/a' && !notHere.has(key(r, ''))).map((r) => key(r)).sort();
      assert.deepEqual(mine.filter((r) => r.verdict !== 'n/a').map((r) => key(r)).sort(), want, file);
      assert.ok(notHere.size <= 1, `${file}: ${notHere.size} scenarios not on ARM64`);
    }
  });
  for (const file of arm64Files) {
    it(`${file}: every row's call is where the oracle and the bytes say`, () => {
      const img = image(file);
      const syms = readTsv(join(callFixtures, `${file}.syms.tsv`));
      const symRva = new Map(syms.map((r) => [r.name as string, r.rva as string]));
      const starts = syms.map((r) => Number(r.rva)).sort((a, b) => a - b);
      const calls = readTsv(join(callFixtures, `${file}.calls.tsv`));
      const slotOf = new Map(img.allImports.flatMap((m) => m.functions.map((f) => [hex(f.iatRva), f.name ?? ''] as const)));
      for (const row of arm64Rows.filter((r) => r.file === file)) {
        if (row.verdict === 'n/a') {
          assert.equal(row.call_rva, '-', `${row.function}: an n/a row has no call`);
          continue;
        }
        const what = `${row.function} ${row.api} @${row.call_rva} (${row.form})`;
        const at = Number(row.call_rva);
        const fn = Number(row.function_rva);
        assert.equal(symRva.get(row.symbol as string), row.function_rva, `${what}: syms.tsv names the function`);
        const next = starts.find((s) => s > fn) ?? Infinity;
        assert.ok(at >= fn && at < next, `${what}: inside its function`);
        const w = word(img, at);
        const oracle = calls.filter((c) => c.call_rva === row.call_rva && c.api === row.api);
        switch (row.form) {
          case 'call-reg':
          case 'jmp-reg': {
            assert.ok(row.form === 'call-reg' ? isBlr(w) : isBr(w), `${what}: ${row.form === 'call-reg' ? 'BLR' : 'BR'}`);
            assert.equal(oracle.length, 1, `${what}: an oracle call of ${row.api}`);
            assert.equal(oracle[0]?.form, row.form);
            // ... of a pointer an LDR in the same function read from the API's IAT slot
            const loads = calls.filter((c) => c.form === 'load-iat' && c.api === row.api && c.function_rva === row.function_rva && Number(c.call_rva) < at);
            assert.ok(loads.length > 0, `${what}: a load-iat before it`);
            for (const load of loads) {
              assert.ok(isLdrX(word(img, Number(load.call_rva))), `${what}: load-iat at ${load.call_rva} is LDR Xt`);
              const slot = ldrSlot(img, Number(load.call_rva), fn);
              assert.equal(hex(slot), load.iat_rva, `${what}: ADRP + LDR at ${load.call_rva} read the oracle's slot`);
              assert.equal(slotOf.get(load.iat_rva as string), row.api, `${what}: the slot is ${row.api}'s`);
            }
            break;
          }
          case 'call-thunk': {
            assert.ok(isBl(w), `${what}: BL`);
            assert.equal(oracle[0]?.form, 'call-thunk');
            const thunk = hex(blTarget(w, at));
            assert.ok(syms.some((s) => s.rva === thunk && s.kind === 'thunk'), `${what}: BL to a thunk`);
            const ldr = calls.find((c) => c.form === 'thunk' && c.function_rva === thunk);
            assert.equal(ldr?.api, row.api, `${what}: the thunk loads ${row.api}'s slot`);
            assert.equal(hex(ldrSlot(img, Number(ldr?.call_rva), blTarget(w, at))), ldr?.iat_rva);
            assert.ok(isBr(word(img, Number(ldr?.call_rva) + 4)), `${what}: the thunk ends with BR`);
            break;
          }
          case 'call-direct':
            assert.ok(isBl(w), `${what}: BL`);
            assert.equal(hex(blTarget(w, at)), symRva.get(row.via as string), `${what}: BL to ${row.via}`);
            break;
          case 'call-indirect':
            assert.ok(isBlr(w), `${what}: BLR`);
            assert.equal(calls.filter((c) => c.call_rva === row.call_rva).length, 0, `${what}: not an import call`);
            break;
          case 'insn':
            if (/^\(insn:(call generated|call other)\)$/.test(row.api as string)) assert.ok(isBlr(w), `${what}: BLR`);
            else if (/^\(insn:(store|load) code\)$/.test(row.api as string)) assert.ok(isLoadStore(w), `${what}: a load or store`);
            else if (/^\(insn:mdl over (code|data)\)$/.test(row.api as string))
              assert.ok(calls.some((c) => c.call_rva === row.call_rva && c.api === 'IoAllocateMdl' && /^call-/.test(c.form as string)), `${what}: an IoAllocateMdl call`);
            else assert.fail(`${what}: an instruction row ARM64 has no meaning for`);
            break;
          default:
            assert.fail(`${what}: unknown form`);
        }
      }
    });
  }
});
