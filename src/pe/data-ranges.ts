/**
 * The parts of an image that are data by construction: what the data directories point at
 * (imports with their lookup tables, hint/name entries and DLL names; the IAT; delay imports;
 * exports; resources; .pdata; base relocations; the debug directory and the records it
 * points at; load configuration; TLS; bound imports). Old linkers put the import tables in
 * the executable INIT section and some put the others into .text, so these bytes sit inside
 * executable sections — and decoded as instructions they look like stores and privileged
 * writes (`e0 28 05 00 …` is `sub byte ptr [rip+0], al`). Function discovery never descends
 * into these ranges and instruction rules never report from them.
 *
 * The certificate table (directory 4) is a file offset, not an RVA: it is never mapped, so it
 * has no range here. A directory that would swallow the entry point is ignored (a hostile or
 * broken header must not hide code).
 */
import { DirectoryIndex } from './constants.js';
import type { PeImage } from './image.js';

export interface DataRange {
  begin: number;
  /** Exclusive. */
  end: number;
  /** What lies there, for evidence and tests: "import directory", "lookup table of ntoskrnl.exe"… */
  what: string;
}

/** A directory larger than this is not believed (it would cover most of any real driver). */
const MAX_DIRECTORY_SIZE = 0x1000000;

const DIRECTORY_NAMES: ReadonlyArray<[number, string]> = [
  [DirectoryIndex.export, 'export directory'],
  [DirectoryIndex.import, 'import directory'],
  [DirectoryIndex.resource, 'resource directory'],
  [DirectoryIndex.exception, 'exception directory (.pdata)'],
  [DirectoryIndex.baseReloc, 'base relocations'],
  [DirectoryIndex.debug, 'debug directory'],
  [DirectoryIndex.tls, 'TLS directory'],
  [DirectoryIndex.loadConfig, 'load configuration'],
  [DirectoryIndex.boundImport, 'bound imports'],
  [DirectoryIndex.iat, 'import address table'],
  [DirectoryIndex.delayImport, 'delay-import directory'],
];

export class DataRanges {
  /** Sorted by begin; may overlap. */
  readonly ranges: readonly DataRange[];
  /** Running maximum of `end` over `ranges[0..i]`, for the containment search. */
  private readonly maxEnd: number[];

  constructor(ranges: DataRange[]) {
    this.ranges = ranges.filter((r) => r.end > r.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
    let max = 0;
    this.maxEnd = this.ranges.map((r) => (max = Math.max(max, r.end)));
  }

  /** The range holding `rva`, if any. */
  at(rva: number): DataRange | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ranges[mid] as DataRange).begin <= rva) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = found; i >= 0 && (this.maxEnd[i] as number) > rva; i--) {
      const r = this.ranges[i] as DataRange;
      if (rva < r.end) return r;
    }
    return undefined;
  }

  contains(rva: number): boolean {
    return this.at(rva) !== undefined;
  }

  /** True when any byte of [begin, end) is data. */
  overlaps(begin: number, end: number): boolean {
    if (this.contains(begin)) return true;
    return this.ranges.some((r) => r.begin > begin && r.begin < end);
  }
}

export function computeDataRanges(image: PeImage): DataRanges {
  const out: DataRange[] = [];
  const entry = image.optionalHeader.addressOfEntryPoint;
  const add = (begin: number, size: number, what: string): void => {
    if (size <= 0 || size > MAX_DIRECTORY_SIZE || begin <= 0) return;
    if (entry !== 0 && entry >= begin && entry < begin + size) return;
    out.push({ begin, end: begin + size, what });
  };
  for (const [index, what] of DIRECTORY_NAMES) {
    const d = image.directory(index);
    if (d) add(d.virtualAddress, d.size, what);
  }
  const ptr = image.is64 ? 8 : 4;
  for (const m of image.allImports) {
    const tables = (m.functions.length + 1) * ptr;
    add(m.descriptorRva, m.delayLoaded ? 32 : 20, `import descriptor of ${m.dll}`);
    add(m.lookupRva, tables, `lookup table of ${m.dll}`);
    add(m.iatRva, tables, `import address table of ${m.dll}`);
    add(m.nameRva, m.dll.length + 1, `name of ${m.dll}`);
    for (const f of m.functions) {
      if (f.hintNameRva !== undefined && f.name !== undefined) add(f.hintNameRva, 2 + f.name.length + 1, `hint/name of ${f.name}`);
    }
  }
  for (const e of image.debugInfo?.entries ?? []) add(e.addressOfRawData, e.sizeOfData, 'debug data');
  return new DataRanges(out);
}
