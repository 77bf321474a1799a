/**
 * A small PE32+ (x64) kernel-driver writer for hostile test inputs: the shapes issue 16
 * names (thousands of branches, hundreds of thousands of relocations or call sites, code
 * that calls itself millions of times) are impractical to get from a compiler, so they are
 * written here byte by byte. Offsets follow the PE/COFF specification; nothing is read back
 * through src/pe, so these inputs do not depend on the reader they test.
 */

export const IMAGE_BASE = 0x1_4000_0000n;
const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x1000;
const HEADERS_SIZE = 0x400;

const SCN_CODE = 0x0000_0020;
const SCN_INITIALIZED = 0x0000_0040;
const SCN_UNINITIALIZED = 0x0000_0080;
const SCN_EXECUTE = 0x2000_0000;
const SCN_READ = 0x4000_0000;
const SCN_WRITE = 0x8000_0000;
export const TEXT = SCN_CODE | SCN_EXECUTE | SCN_READ;
export const RDATA = SCN_INITIALIZED | SCN_READ;
export const DATA = SCN_INITIALIZED | SCN_READ | SCN_WRITE;
export const BSS = SCN_UNINITIALIZED | SCN_READ | SCN_WRITE;

/** Where things landed, for code that refers to them (rip-relative calls, relocations). */
export interface Layout {
  textRva: number;
  /** IAT slot RVA of each imported ntoskrnl function. */
  iat: Map<string, number>;
}

export interface DriverSpec {
  /** ntoskrnl.exe imports. */
  imports: string[];
  /** The .text bytes; called twice (sizes must not depend on the layout). */
  code: (layout: Layout) => Uint8Array;
  /** Entry point offset inside .text (default 0). */
  entry?: number;
  /** .pdata entries as [begin, end) offsets inside .text. */
  pdata?: Array<[number, number]>;
  /** A raw .reloc section body (base relocation blocks), placed last. */
  relocations?: (layout: Layout & { bssRva: number }) => Uint8Array;
  /** Size of an uninitialised writable section (.bss) placed before .reloc. */
  bssSize?: number;
  /** Section name overrides by index (8 bytes at most, any bytes). */
  sectionNames?: Partial<Record<'text' | 'rdata', Uint8Array>>;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

interface Section {
  name: Uint8Array;
  data: Uint8Array;
  virtualSize: number;
  characteristics: number;
}

/** Import directory, lookup table, IAT and names for ntoskrnl.exe, at `rva`. */
function importSection(rva: number, names: readonly string[]): { data: Uint8Array; iat: Map<string, number>; dir: [number, number]; iatDir: [number, number] } {
  const n = names.length;
  const descriptors = 0; // two descriptors: ntoskrnl and the terminator
  const ilt = 40;
  const iatAt = ilt + 8 * (n + 1);
  const dllName = iatAt + 8 * (n + 1);
  let hints = align(dllName + 'ntoskrnl.exe'.length + 1, 2);
  const hintAt: number[] = [];
  for (const name of names) {
    hintAt.push(hints);
    hints = align(hints + 2 + name.length + 1, 2);
  }
  const data = new Uint8Array(align(hints, 8));
  const dv = new DataView(data.buffer);
  dv.setUint32(descriptors + 0, rva + ilt, true); // OriginalFirstThunk
  dv.setUint32(descriptors + 12, rva + dllName, true); // Name
  dv.setUint32(descriptors + 16, rva + iatAt, true); // FirstThunk
  const iat = new Map<string, number>();
  names.forEach((name, i) => {
    dv.setBigUint64(ilt + 8 * i, BigInt(rva + (hintAt[i] as number)), true);
    dv.setBigUint64(iatAt + 8 * i, BigInt(rva + (hintAt[i] as number)), true);
    iat.set(name, rva + iatAt + 8 * i);
    writeAscii(data, (hintAt[i] as number) + 2, name);
  });
  writeAscii(data, dllName, 'ntoskrnl.exe');
  return { data, iat, dir: [rva, 40], iatDir: [rva + iatAt, 8 * (n + 1)] };
}

function writeAscii(into: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) into[at + i] = s.charCodeAt(i);
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Builds the driver image. */
export function buildDriver(spec: DriverSpec): Uint8Array {
  const textRva = SECTION_ALIGN;
  // First pass with a dummy layout only to learn the code size.
  const dummyIat = new Map(spec.imports.map((n) => [n, 0]));
  const codeSize = spec.code({ textRva, iat: dummyIat }).length;
  const rdataRva = textRva + align(Math.max(codeSize, 1), SECTION_ALIGN);
  const imports = importSection(rdataRva, spec.imports);
  const layout: Layout = { textRva, iat: imports.iat };
  const code = spec.code(layout);
  if (code.length !== codeSize) throw new Error('code size depends on the layout');

  let rdata = imports.data;
  let pdataDir: [number, number] | undefined;
  if (spec.pdata && spec.pdata.length > 0) {
    const at = align(rdata.length, 4);
    const withPdata = new Uint8Array(at + 12 * spec.pdata.length + 8);
    withPdata.set(rdata);
    const dv = new DataView(withPdata.buffer);
    const unwind = at + 12 * spec.pdata.length; // one shared UNWIND_INFO: version 1, no codes
    withPdata[unwind] = 1;
    spec.pdata.forEach(([b, e], i) => {
      dv.setUint32(at + 12 * i, textRva + b, true);
      dv.setUint32(at + 12 * i + 4, textRva + e, true);
      dv.setUint32(at + 12 * i + 8, rdataRva + unwind, true);
    });
    pdataDir = [rdataRva + at, 12 * spec.pdata.length];
    rdata = withPdata;
  }

  const sections: Section[] = [
    { name: spec.sectionNames?.text ?? ascii('.text'), data: code, virtualSize: codeSize, characteristics: TEXT },
    { name: spec.sectionNames?.rdata ?? ascii('.rdata'), data: rdata, virtualSize: rdata.length, characteristics: RDATA },
  ];
  let nextRva = rdataRva + align(rdata.length, SECTION_ALIGN);
  let bssRva = 0;
  if (spec.bssSize) {
    bssRva = nextRva;
    sections.push({ name: ascii('.bss'), data: new Uint8Array(0), virtualSize: spec.bssSize, characteristics: BSS });
    nextRva += align(spec.bssSize, SECTION_ALIGN);
  }
  let relocDir: [number, number] | undefined;
  if (spec.relocations) {
    const body = spec.relocations({ ...layout, bssRva });
    relocDir = [nextRva, body.length];
    sections.push({ name: ascii('.reloc'), data: body, virtualSize: body.length, characteristics: RDATA | 0x0200_0000 });
    nextRva += align(body.length, SECTION_ALIGN);
  }
  const sizeOfImage = nextRva;

  const rawSizes = sections.map((s) => align(s.data.length, FILE_ALIGN));
  const fileSize = HEADERS_SIZE + rawSizes.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(fileSize);
  const dv = new DataView(out.buffer);
  // DOS header
  out[0] = 0x4d;
  out[1] = 0x5a;
  dv.setUint32(0x3c, 0x40, true);
  // PE signature and COFF header
  const pe = 0x40;
  dv.setUint32(pe, 0x0000_4550, true);
  dv.setUint16(pe + 4, 0x8664, true);
  dv.setUint16(pe + 6, sections.length, true);
  dv.setUint16(pe + 20, 0xf0, true); // SizeOfOptionalHeader
  dv.setUint16(pe + 22, 0x0022, true); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
  // Optional header (PE32+)
  const oh = pe + 24;
  dv.setUint16(oh, 0x20b, true);
  out[oh + 2] = 14; // linker version
  dv.setUint32(oh + 4, align(codeSize, FILE_ALIGN), true);
  dv.setUint32(oh + 16, textRva + (spec.entry ?? 0), true); // AddressOfEntryPoint
  dv.setUint32(oh + 20, textRva, true); // BaseOfCode
  dv.setBigUint64(oh + 24, IMAGE_BASE, true);
  dv.setUint32(oh + 32, SECTION_ALIGN, true);
  dv.setUint32(oh + 36, FILE_ALIGN, true);
  dv.setUint16(oh + 40, 10, true); // OS version
  dv.setUint16(oh + 48, 10, true); // subsystem version
  dv.setUint32(oh + 56, sizeOfImage, true);
  dv.setUint32(oh + 60, HEADERS_SIZE, true);
  dv.setUint16(oh + 68, 1, true); // IMAGE_SUBSYSTEM_NATIVE
  dv.setUint16(oh + 70, 0x0160, true); // HIGH_ENTROPY_VA | DYNAMIC_BASE | NX_COMPAT
  dv.setBigUint64(oh + 72, 0x40000n, true); // stack reserve
  dv.setBigUint64(oh + 80, 0x1000n, true);
  dv.setBigUint64(oh + 88, 0x100000n, true);
  dv.setBigUint64(oh + 96, 0x1000n, true);
  dv.setUint32(oh + 108, 16, true); // NumberOfRvaAndSizes
  const dir = (i: number, [rva, size]: [number, number]) => {
    dv.setUint32(oh + 112 + 8 * i, rva, true);
    dv.setUint32(oh + 112 + 8 * i + 4, size, true);
  };
  dir(1, imports.dir);
  dir(12, imports.iatDir);
  if (pdataDir) dir(3, pdataDir);
  if (relocDir) dir(5, relocDir);
  // Section table and bodies
  let table = oh + 0xf0;
  let raw = HEADERS_SIZE;
  let rva = textRva;
  sections.forEach((s, i) => {
    out.set(s.name.subarray(0, 8), table);
    dv.setUint32(table + 8, s.virtualSize, true);
    dv.setUint32(table + 12, rva, true);
    dv.setUint32(table + 16, rawSizes[i] as number, true);
    dv.setUint32(table + 20, (rawSizes[i] as number) === 0 ? 0 : raw, true);
    dv.setUint32(table + 36, s.characteristics, true);
    out.set(s.data, raw);
    raw += rawSizes[i] as number;
    rva += align(Math.max(s.virtualSize, 1), SECTION_ALIGN);
    table += 40;
  });
  return out;
}

/** Little-endian bytes of a 32-bit value. */
export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** `call qword ptr [rip+disp]` to an IAT slot, for an instruction at text offset `at`. */
export function callIat(layout: Layout, at: number, api: string): number[] {
  const slot = layout.iat.get(api);
  if (slot === undefined) throw new Error(`no import ${api}`);
  const next = layout.textRva + at + 6;
  return [0xff, 0x15, ...le32(slot - next)];
}
