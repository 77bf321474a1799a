/**
 * Issue 10 precision fixtures (test/fixtures/precision): data is not code, and one CR0
 * toggle is one finding. Expected places come from the build's oracle
 * (<binary>.tsv: objdump -h/-p/-d, llvm-readobj --coff-imports, nm), never from hvci.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/analyze.js';
import { codeModelOf } from '../../src/analysis/code-model.js';
import { parsePe, type PeImage } from '../../src/pe/index.js';
import type { Finding } from '../../src/report/model.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';

const dir = join(repoRoot, 'test', 'fixtures', 'precision', 'bin');
const binaries = (what: string): string[] => readdirSync(dir).filter((f) => f.startsWith(`${what}.`) && f.endsWith('.sys'));
const hex = (n: number): string => `0x${n.toString(16)}`;
/** Rules that judge single instructions. */
const INSTRUCTION_RULES = new Set(['cr0-write', 'cr4-write', 'msr-write', 'self-modifying-code']);

function oracle(file: string): string[][] {
  return readFileSync(join(dir, file.replace(/\.sys$/, '.tsv')), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}
function bytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, file)));
}
function image(file: string): PeImage {
  const parsed = parsePe(bytes(file));
  assert.ok(parsed.ok);
  return parsed.image;
}
function findings(file: string): Finding[] {
  return analyze(bytes(file), { path: file }).findings;
}
function section(rows: string[][], name: string): { begin: number; end: number } {
  const row = rows.find((r) => r[0] === 'section' && r[1] === name);
  assert.ok(row, `oracle has no section ${name}`);
  return { begin: Number(row[2]), end: Number(row[2]) + Number(row[3]) };
}
/** The import data the oracle names: directories, lookup tables, hint/name entries. */
function importData(rows: string[][]): Array<{ begin: number; end: number; what: string }> {
  const out: Array<{ begin: number; end: number; what: string }> = [];
  for (const r of rows) {
    if (r[0] === 'importdir' || r[0] === 'iatdir') out.push({ begin: Number(r[1]), end: Number(r[1]) + Number(r[2]), what: r[0] });
    if (r[0] === 'lookup') out.push({ begin: Number(r[2]), end: Number(r[2]) + Number(r[3]), what: `lookup table of ${r[1]}` });
    if (r[0] === 'hintname') out.push({ begin: Number(r[2]), end: Number(r[2]) + 2 + (r[1] as string).length + 1, what: `hint/name ${r[1]}` });
  }
  return out;
}

describe('data is not code: import tables in the executable INIT section (old-linker layout)', () => {
  const files = binaries('init_imports');
  it('is built for x64 and x86, mingw and clang', () => assert.equal(files.length, 4));
  for (const file of files) {
    describe(file, () => {
      const rows = oracle(file);
      it('premise: the oracle puts the import directory, lookup table, hint/names and IAT inside INIT, which is R-X', () => {
        const init = section(rows, 'INIT');
        const data = importData(rows);
        assert.ok(data.length >= 9, 'import directory, IAT, one lookup table and six hint/name entries');
        for (const d of data) assert.ok(d.begin >= init.begin && d.end <= init.end, `${d.what} ${hex(d.begin)} outside INIT`);
        const s = image(file).sections.find((x) => x.name === 'INIT');
        assert.equal(s?.characteristics, 0x62000020);
      });
      it('image.dataRanges holds every byte of the import data the oracle names', () => {
        const ranges = image(file).dataRanges;
        for (const d of importData(rows)) {
          for (let rva = d.begin; rva < d.end; rva++) assert.ok(ranges.contains(rva), `${d.what}: ${hex(rva)} not in a data range`);
        }
      });
      it('no discovered function covers a byte of the import data', () => {
        const img = image(file);
        const model = codeModelOf(img);
        assert.ok(!('supported' in model));
        const overlapping: string[] = [];
        for (const fn of model.functions.functions) {
          for (const r of fn.ranges) {
            for (const d of importData(rows)) if (r.begin < d.end && d.begin < r.end) overlapping.push(`sub_${hex(fn.start)} ${hex(r.begin)}-${hex(r.end)} over ${d.what}`);
          }
        }
        model.reader.dispose();
        assert.deepEqual(overlapping, []);
      });
      it('DriverEntry (oracle: nm) is still found as a function', () => {
        const entry = rows.find((r) => r[0] === 'function' && r[1] === 'DriverEntry');
        assert.ok(entry);
        const model = codeModelOf(image(file));
        assert.ok(!('supported' in model));
        assert.ok(model.functions.containing(Number(entry[2])), 'DriverEntry not found');
        model.reader.dispose();
      });
      it('gives no instruction finding (the source writes neither code nor control registers)', () => {
        const got = findings(file).filter((f) => INSTRUCTION_RULES.has(f.ruleId));
        assert.deepEqual(got.map((f) => `${f.ruleId} ${f.message}`), []);
      });
      it('still reports the IAT in the executable INIT section (a real problem of this layout)', () => {
        const iat = rows.find((r) => r[0] === 'iatdir');
        assert.ok(iat);
        const got = findings(file).filter((f) => f.ruleId === 'iat-in-executable-section');
        assert.deepEqual(got.map((f) => f.rva), [Number(iat[1])]);
      });
    });
  }
});

describe('data is not code: a packed-looking section', () => {
  const files = binaries('packed');
  it('is built for x64 and x86, mingw and clang', () => assert.equal(files.length, 4));
  for (const file of files) {
    describe(file, () => {
      const upx1 = section(oracle(file), 'UPX1');
      it('premise: UPX1 holds mov cr0, rax (0F 22 C0) three bytes in, where DriverEntry calls', () => {
        const img = image(file);
        assert.deepEqual([...(img.space.bytesAt(upx1.begin, 6) ?? [])], [0x53, 0x56, 0x90, 0x0f, 0x22, 0xc0]);
      });
      it('gives one packed-section note for UPX1 and no code finding inside it', () => {
        const all = findings(file);
        const notes = all.filter((f) => f.ruleId === 'packed-section');
        assert.deepEqual(notes.map((f) => [f.severity, f.section, f.rva]), [['note', 'UPX1', upx1.begin]]);
        assert.match(notes[0]?.message ?? '', /^Call sites in section UPX1 not analysed: it looks packed \(entropy 7\.\d\d bits per byte/);
        const inside = all.filter((f) => f.ruleId !== 'packed-section' && f.rva !== undefined && f.rva >= upx1.begin && f.rva < upx1.end);
        assert.deepEqual(inside.map((f) => `${f.ruleId} ${f.message}`), []);
      });
    });
  }
});

describe('one CR0 toggle, one finding', () => {
  const files = binaries('cr0_toggle');
  it('is built for x64 and x86, mingw and clang', () => assert.equal(files.length, 4));
  for (const file of files) {
    describe(file, () => {
      const writes = oracle(file).filter((r) => r[0] === 'cr0write');
      const toggle = writes.filter((r) => r[1] === 'cr0_toggle').map((r) => Number(r[2]));
      const clearOnly = writes.filter((r) => r[1] === 'cr0_clear_only').map((r) => Number(r[2]));
      it('premise: objdump sees two CR0 writes in cr0_toggle and one in cr0_clear_only', () => {
        assert.equal(toggle.length, 2);
        assert.equal(clearOnly.length, 1);
      });
      it('reports the toggle once, with both instructions as proof, and the clear-only write on its own', () => {
        const got = findings(file).filter((f) => f.ruleId === 'cr0-write');
        assert.deepEqual(
          got.map((f) => f.rva).sort((a, b) => (a ?? 0) - (b ?? 0)),
          [toggle[0], clearOnly[0]],
        );
        const pair = got.find((f) => f.rva === toggle[0]);
        assert.equal(pair?.messageId, 'toggle');
        const restore = pair?.evidence?.restore as { rva: string; instruction: string } | undefined;
        assert.equal(Number(restore?.rva), toggle[1]);
        assert.match(restore?.instruction ?? '', /^mov cr0, /);
        assert.match(pair?.message ?? '', new RegExp(`at ${hex(toggle[1] as number)} sets it again`, 'i'));
        // The text report's proof runs from the clear to the restore.
        const text = runCli(['scan', '--no-color', join('test', 'fixtures', 'precision', 'bin', file)]).stdout;
        assert.match(text, new RegExp(`proof: [\\s\\S]*${hex(toggle[0] as number)} +mov cr0, [\\s\\S]*${hex(toggle[1] as number)} +mov cr0, `, 'i'));
        const single = got.find((f) => f.rva === clearOnly[0]);
        assert.equal(single?.messageId, 'write');
        assert.match(single?.message ?? '', /after clearing the write-protect bit/);
      });
    });
  }
});
