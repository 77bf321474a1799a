/**
 * The hostile inputs of issue 16, generated (not committed): each is a valid-looking x64
 * driver whose shape once stopped a whole scan — a stack overflow, a report too large to
 * render, quadratic work, unbounded memory. `fast` ones run in every CI test run and in the
 * fuzz job; the full-size ones run in the fuzz job with HVCI_HOSTILE_FULL=1.
 *
 *   node --import tsx test/hostile/write.ts DIR   writes them all to DIR
 */
import { buildDriver, callIat, DATA, type Layout, le32 } from './pe-builder.js';

export interface HostileInput {
  name: string;
  /** The issue 16 item it reproduces. */
  item: number;
  what: string;
  /** Small enough for every CI run. */
  fast: boolean;
  bytes(): Uint8Array;
}

const ALLOC = 'ExAllocatePoolWithTag';

/** `xor ecx,ecx`, then `branches` × (test edx,edx; je +3; xor r8d,r8d), then ExAllocatePoolWithTag(ecx, 0x100, tag). */
export function manyBranches(branches: number): Uint8Array {
  return buildDriver({
    imports: [ALLOC],
    code: (layout: Layout) => {
      const out: number[] = [0x31, 0xc9];
      for (let i = 0; i < branches; i++) out.push(0x85, 0xd2, 0x74, 0x03, 0x45, 0x31, 0xc0);
      out.push(0xba, ...le32(0x100)); // mov edx, 0x100
      out.push(0x41, 0xb8, ...le32(0x74736f48)); // mov r8d, 'Host'
      out.push(...callIat(layout, out.length, ALLOC));
      out.push(0xc3);
      return Uint8Array.from(out);
    },
  });
}

/**
 * `pages` pages of .bss, each with 7 DIR64 relocations at page offsets 0xFF9–0xFFF: every one
 * patches 8 bytes across a page boundary (rule straddling-relocation), 7 × pages findings.
 */
export function manyStraddlingRelocations(pages: number): Uint8Array {
  return buildDriver({
    imports: [ALLOC],
    code: () => Uint8Array.of(0x31, 0xc0, 0xc3),
    bssSize: pages * 0x1000 + 0x1000,
    relocations: ({ bssRva }) => {
      const block = 8 + 8 * 2; // 7 entries + one ABSOLUTE pad keep blocks 4-byte aligned
      const out = new Uint8Array(pages * block);
      const dv = new DataView(out.buffer);
      for (let p = 0; p < pages; p++) {
        const at = p * block;
        dv.setUint32(at, bssRva + p * 0x1000, true);
        dv.setUint32(at + 4, block, true);
        for (let k = 0; k < 7; k++) dv.setUint16(at + 8 + 2 * k, (10 << 12) | (0xff9 + k), true);
      }
      return out;
    },
  });
}

/** One function making `calls` calls to ExAllocatePoolWithTag in a row (pool type unknown each time). */
export function manyAllocatorCalls(calls: number): Uint8Array {
  return buildDriver({
    imports: [ALLOC],
    code: (layout) => {
      const out = new Uint8Array(calls * 6 + 1);
      for (let i = 0; i < calls; i++) out.set(callIat(layout, i * 6, ALLOC), i * 6);
      out[calls * 6] = 0xc3;
      return out;
    },
  });
}

/** `calls` × `call next` (E8 00000000): every instruction starts a new function that runs to the end. */
export function callChain(calls: number): Uint8Array {
  return buildDriver({
    imports: [ALLOC],
    code: () => {
      const out = new Uint8Array(calls * 5 + 1);
      for (let i = 0; i < calls; i++) out[i * 5] = 0xe8;
      out[calls * 5] = 0xc3;
      return out;
    },
  });
}

/** `megabytes` of code described by .pdata in 64 KiB functions (nops, each ending in ret). */
export function bigCodeWithPdata(megabytes: number): Uint8Array {
  const size = megabytes * 1024 * 1024;
  const fn = 0x10000;
  const pdata: Array<[number, number]> = [];
  for (let at = 0; at < size; at += fn) pdata.push([at, at + fn]);
  return buildDriver({
    imports: [ALLOC],
    pdata,
    code: () => {
      const out = new Uint8Array(size).fill(0x90);
      for (let at = fn - 1; at < size; at += fn) out[at] = 0xc3;
      return out;
    },
  });
}

/** A driver whose section names are terminal escape sequences (window title, colour). */
export function escapeSectionNames(): Uint8Array {
  return buildDriver({
    imports: [ALLOC],
    code: () => Uint8Array.of(0x31, 0xc0, 0xc3),
    // ESC ] 0 ; p w n BEL: sets a terminal's window title; ESC [ 3 1 m CR: red, then overwrite.
    sectionNames: { text: Uint8Array.of(0x1b, 0x5d, 0x30, 0x3b, 0x70, 0x77, 0x6e, 0x07), rdata: Uint8Array.of(0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0d, 0xe2, 0x80) },
  });
}

/** A writable+executable section named with a bidi override, so a finding quotes the name. */
export function bidiWxSection(): Uint8Array {
  const bytes = buildDriver({
    imports: [ALLOC],
    code: () => Uint8Array.of(0x31, 0xc0, 0xc3),
    sectionNames: { text: Uint8Array.of(0x2e, 0xe2, 0x80, 0xae, 0x74, 0x78, 0x65, 0x74) }, // ".\u202Etxet"
  });
  // Make .text writable too (execute-write-section quotes the section name).
  const dv = new DataView(bytes.buffer);
  const table = 0x40 + 24 + 0xf0;
  dv.setUint32(table + 36, dv.getUint32(table + 36, true) | DATA, true);
  return bytes;
}

/**
 * 4,096 import descriptors that all name one "lookup table" of 65,536 non-zero entries (the
 * code of a call-next chain), as npm run fuzz found when an import directory pointed into code.
 */
export function importsInCode(): Uint8Array {
  const bytes = callChain(400_000);
  const dv = new DataView(bytes.buffer);
  const textRaw = 0x400;
  const textRva = 0x1000;
  const name = 0x30000; // text offset of the DLL name
  bytes.set(Uint8Array.from('ntoskrnl.exe\0', (c) => c.charCodeAt(0)), textRaw + name);
  for (let i = 0; i < 4096; i++) {
    const at = textRaw + 20 * i;
    dv.setUint32(at, textRva + 0x40000, true); // OriginalFirstThunk: call bytes, never a zero entry
    dv.setUint32(at + 12, textRva + name, true);
    dv.setUint32(at + 16, textRva + 0x40000, true);
  }
  const dirs = 0x40 + 24 + 112;
  dv.setUint32(dirs + 8, textRva, true); // IMAGE_DIRECTORY_ENTRY_IMPORT
  dv.setUint32(dirs + 12, 20 * 4096, true);
  return bytes;
}

/**
 * A relocation block that claims 256 MiB, in a .reloc section whose VirtualSize says 2 GiB
 * over 512 file bytes: its entries would come from zero fill (found by npm run fuzz).
 */
export function relocationsInZeroFill(): Uint8Array {
  const bytes = buildDriver({
    imports: [ALLOC],
    code: () => Uint8Array.of(0x31, 0xc0, 0xc3),
    relocations: () => {
      const block = new Uint8Array(8);
      new DataView(block.buffer).setUint32(0, 0x1000, true);
      new DataView(block.buffer).setUint32(4, 0x1000_0000, true);
      return block;
    },
  });
  const dv = new DataView(bytes.buffer);
  const dirs = 0x40 + 24 + 112;
  dv.setUint32(dirs + 5 * 8 + 4, 0xffff_ffff, true); // the relocation directory claims 4 GiB
  const table = 0x40 + 24 + 0xf0;
  const sections = dv.getUint16(0x40 + 6, true);
  dv.setUint32(table + 40 * (sections - 1) + 8, 0x7fff_f000, true); // .reloc VirtualSize
  return bytes;
}

/** The section header named `name` (8 bytes, NUL-padded): its VirtualAddress. */
function sectionRva(bytes: Uint8Array, name: string): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table = 0x40 + 24 + 0xf0;
  for (let i = 0; i < dv.getUint16(0x40 + 6, true); i++) {
    const at = table + 40 * i;
    const text = String.fromCharCode(...bytes.subarray(at, at + 8)).replace(/\0+$/, '');
    if (text === name) return dv.getUint32(at + 12, true);
  }
  throw new Error(`no section ${name}`);
}

/** An exception directory (.pdata) claiming 12 MiB — a million entries — of a .bss section's zero fill. */
export function pdataInZeroFill(): Uint8Array {
  const bytes = buildDriver({ imports: [ALLOC], code: () => Uint8Array.of(0x31, 0xc0, 0xc3), pdata: [[0, 3]], bssSize: 12 * 1024 * 1024 });
  const dv = new DataView(bytes.buffer);
  const dirs = 0x40 + 24 + 112;
  dv.setUint32(dirs + 3 * 8, sectionRva(bytes, '.bss'), true);
  dv.setUint32(dirs + 3 * 8 + 4, 12 * 1024 * 1024, true);
  return bytes;
}

/**
 * x64 code with .pdata for its first function only, then `n` leaf functions in the gap, each
 * `mov cr0, rax; ret` and int3 padding: n functions found by sweeping, none of them reached
 * (with `inPdata`, each has a .pdata entry instead, so each is reached).
 */
export function manySweepFunctions(n: number, inPdata = false): Uint8Array {
  return buildDriver({
    imports: [ALLOC],
    code: () => {
      const out: number[] = [0x31, 0xc0, 0xc3, 0xcc];
      for (let i = 0; i < n; i++) out.push(0x0f, 0x22, 0xc0, 0xc3, 0xcc);
      return Uint8Array.from(out);
    },
    // inPdata: one .pdata entry per function, so each is reached.
    pdata: [[0, 3], ...(inPdata ? Array.from({ length: n }, (_, i) => [4 + 5 * i, 8 + 5 * i] as [number, number]) : [])],
  });
}

/** `n` section headers whose raw data all cover the whole file (Authenticode would hash it n times). */
export function overlappingSections(n: number): Uint8Array {
  const base = buildDriver({ imports: [ALLOC], code: () => Uint8Array.of(0x31, 0xc0, 0xc3) });
  const table = 0x40 + 24 + 0xf0;
  const size = table + 40 * n + 0x1000;
  const out = new Uint8Array(size);
  out.set(base.subarray(0, table));
  const dv = new DataView(out.buffer);
  dv.setUint16(0x40 + 6, n, true);
  for (let i = 0; i < n; i++) {
    const at = table + 40 * i;
    out.set([0x2e, 0x6f, 0x76], at); // ".ov"
    dv.setUint32(at + 8, 0x1000, true);
    dv.setUint32(at + 12, 0x1000, true);
    dv.setUint32(at + 16, size, true);
    dv.setUint32(at + 20, 0, true);
    dv.setUint32(at + 36, 0x4000_0040, true);
  }
  return out;
}

export const hostileInputs: HostileInput[] = [
  { name: 'branches-1300.sys', item: 1, what: '1,300 branches before an allocator call', fast: true, bytes: () => manyBranches(1300) },
  { name: 'branches-20000.sys', item: 1, what: '20,000 branches before an allocator call', fast: true, bytes: () => manyBranches(20_000) },
  { name: 'straddle-700k.sys', item: 2, what: '700,000 straddling relocations', fast: true, bytes: () => manyStraddlingRelocations(100_000) },
  { name: 'alloc-calls-131k.sys', item: 3, what: '131,072 allocator calls in one function', fast: true, bytes: () => manyAllocatorCalls(131_072) },
  { name: 'call-chain-400k.sys', item: 3, what: 'a 2 MB chain of call-next', fast: true, bytes: () => callChain(400_000) },
  { name: 'call-chain-50mb.sys', item: 3, what: 'a 50 MB chain of call-next', fast: false, bytes: () => callChain(10_000_000) },
  { name: 'code-16mb-pdata.sys', item: 3, what: '16 MB of code with .pdata', fast: true, bytes: () => bigCodeWithPdata(16) },
  { name: 'code-100mb-pdata.sys', item: 3, what: '100 MB of code with .pdata', fast: false, bytes: () => bigCodeWithPdata(100) },
  { name: 'overlapping-sections-20000.sys', item: 3, what: '20,000 sections each covering the whole file', fast: true, bytes: () => overlappingSections(20_000) },
  { name: 'imports-in-code.sys', item: 3, what: 'an import directory inside a call-next chain', fast: true, bytes: importsInCode },
  { name: 'relocations-in-zero-fill.sys', item: 3, what: 'a relocation block over 2 GiB of zero fill', fast: true, bytes: relocationsInZeroFill },
  { name: 'pdata-in-zero-fill.sys', item: 3, what: 'an exception directory over 12 MiB of zero fill', fast: true, bytes: pdataInZeroFill },
  { name: 'sweep-functions-20000.sys', item: 3, what: '20,000 unreached leaf functions between .pdata entries', fast: true, bytes: () => manySweepFunctions(20_000) },
  { name: 'escape-section-names.sys', item: 6, what: 'section names that are terminal escapes', fast: true, bytes: escapeSectionNames },
  { name: 'bidi-wx-section.sys', item: 6, what: 'a W+X section named with U+202E', fast: true, bytes: bidiWxSection },
];
