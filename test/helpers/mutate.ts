/**
 * Corrupts good fixtures in the ways hostile or damaged files do. Offsets are read here
 * directly from the bytes (not through src/pe) so the mutations do not depend on the
 * reader under test.
 */
export interface Mutation {
  name: string;
  apply(bytes: Uint8Array): Uint8Array;
}

interface Layout {
  peOffset: number;
  optionalOffset: number;
  is64: boolean;
  sectionTable: number;
  sectionCount: number;
  dirOffset: number;
}

function layout(bytes: Uint8Array): Layout {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const peOffset = dv.getUint32(0x3c, true);
  const optionalOffset = peOffset + 24;
  const is64 = dv.getUint16(optionalOffset, true) === 0x20b;
  const sizeOfOptional = dv.getUint16(peOffset + 20, true);
  return {
    peOffset,
    optionalOffset,
    is64,
    sectionTable: optionalOffset + sizeOfOptional,
    sectionCount: dv.getUint16(peOffset + 6, true),
    dirOffset: optionalOffset + (is64 ? 112 : 96),
  };
}

function edit(bytes: Uint8Array, fn: (dv: DataView, l: Layout) => void): Uint8Array {
  const copy = bytes.slice();
  fn(new DataView(copy.buffer), layout(copy));
  return copy;
}

const dirEntry = (l: Layout, index: number) => l.dirOffset + 8 * index;

export const mutations: Mutation[] = [
  { name: 'truncated inside the DOS header', apply: (b) => b.slice(0, 0x30) },
  { name: 'truncated after the PE signature', apply: (b) => b.slice(0, layout(b).peOffset + 6) },
  { name: 'truncated inside the optional header', apply: (b) => b.slice(0, layout(b).optionalOffset + 40) },
  { name: 'truncated inside the section table', apply: (b) => b.slice(0, layout(b).sectionTable + 50) },
  { name: 'truncated to half its size', apply: (b) => b.slice(0, b.length >> 1) },
  { name: 'e_lfanew points past the end', apply: (b) => edit(b, (dv) => dv.setUint32(0x3c, 0xfffffff0, true)) },
  { name: 'PE signature damaged', apply: (b) => edit(b, (dv, l) => dv.setUint32(l.peOffset, 0x00004551, true)) },
  { name: 'optional header magic unknown', apply: (b) => edit(b, (dv, l) => dv.setUint16(l.optionalOffset, 0x0107, true)) },
  { name: 'NumberOfSections 0xFFFF', apply: (b) => edit(b, (dv, l) => dv.setUint16(l.peOffset + 6, 0xffff, true)) },
  { name: 'NumberOfSections 0', apply: (b) => edit(b, (dv, l) => dv.setUint16(l.peOffset + 6, 0, true)) },
  { name: 'SizeOfOptionalHeader 0xFFFF', apply: (b) => edit(b, (dv, l) => dv.setUint16(l.peOffset + 20, 0xffff, true)) },
  {
    name: 'NumberOfRvaAndSizes 0xFFFFFFFF',
    apply: (b) => edit(b, (dv, l) => dv.setUint32(l.optionalOffset + (l.is64 ? 108 : 92), 0xffffffff, true)),
  },
  {
    name: 'every section claims 4 GiB of raw data at a bad offset',
    apply: (b) =>
      edit(b, (dv, l) => {
        for (let i = 0; i < l.sectionCount; i++) {
          dv.setUint32(l.sectionTable + 40 * i + 16, 0xffffffff, true);
          dv.setUint32(l.sectionTable + 40 * i + 20, 0xfffffff0, true);
        }
      }),
  },
  {
    name: 'every section has VirtualSize 0xFFFFFFFF',
    apply: (b) =>
      edit(b, (dv, l) => {
        for (let i = 0; i < l.sectionCount; i++) dv.setUint32(l.sectionTable + 40 * i + 8, 0xffffffff, true);
      }),
  },
  {
    name: 'all sections overlap at the same RVA',
    apply: (b) =>
      edit(b, (dv, l) => {
        const first = dv.getUint32(l.sectionTable + 12, true);
        for (let i = 1; i < l.sectionCount; i++) dv.setUint32(l.sectionTable + 40 * i + 12, first, true);
      }),
  },
  {
    name: 'import directory points outside the image',
    apply: (b) => edit(b, (dv, l) => dv.setUint32(dirEntry(l, 1), 0x7ffffff0, true)),
  },
  {
    name: 'import directory points at the headers (garbage descriptors)',
    apply: (b) => edit(b, (dv, l) => dv.setUint32(dirEntry(l, 1), 0x40, true)),
  },
  {
    name: 'base relocation directory claims 4 GiB',
    apply: (b) => edit(b, (dv, l) => dv.setUint32(dirEntry(l, 5) + 4, 0xffffffff, true)),
  },
  {
    name: 'IAT directory claims 4 GiB at RVA 0xFFFFF000',
    apply: (b) =>
      edit(b, (dv, l) => {
        dv.setUint32(dirEntry(l, 12), 0xfffff000, true);
        dv.setUint32(dirEntry(l, 12) + 4, 0xffffffff, true);
      }),
  },
  {
    name: 'export directory with huge counts',
    apply: (b) =>
      edit(b, (dv, l) => {
        // Point the export directory at the optional header: its words read as huge counts.
        dv.setUint32(dirEntry(l, 0), l.optionalOffset, true);
        dv.setUint32(dirEntry(l, 0) + 4, 0x40, true);
      }),
  },
  {
    name: 'security directory past the end of the file',
    apply: (b) =>
      edit(b, (dv, l) => {
        dv.setUint32(dirEntry(l, 4), 0x7ffffff0, true);
        dv.setUint32(dirEntry(l, 4) + 4, 0x1000, true);
      }),
  },
];
