import type { PdbIssueLog } from './issues.js';
import { StreamReader } from './reader.js';

/** A piece of a section that one module (object file) contributed. */
export interface SectionContribution {
  section: number;
  offset: number;
  size: number;
  characteristics: number;
  module: number;
}

export interface DbiModule {
  index: number;
  /** The object file or library member ("D:\a\drv\obj\rx.obj", "* Linker *"). */
  name: string;
  objectFile: string;
  /** The module's own stream (symbols, then C11 and C13 line information); undefined when it has none. */
  stream?: number;
  symbolBytes: number;
  c11Bytes: number;
  c13Bytes: number;
}

export interface SectionMapEntry {
  flags: number;
  frame: number;
  offset: number;
  length: number;
}

/** The debug information stream (stream 3): modules, section contributions, section map. */
export interface Dbi {
  age: number;
  machine: number;
  /** The stream of global symbol records (S_PUB32, S_PROCREF …). */
  symbolRecordStream?: number;
  modules: DbiModule[];
  sectionContributions: SectionContribution[];
  sectionMap: SectionMapEntry[];
  /** Stream of the image's section headers (optional debug header entry 5). */
  sectionHeaderStream?: number;
}

const HEADER_SIZE = 64;
const NEW_DBI_SIGNATURE = -1;
const MAX_MODULES = 65536;
const MAX_CONTRIBUTIONS = 1 << 20;
const MAX_SECTIONS = 65536;
const NO_STREAM = 0xffff;
const SC_V60 = (0xeffe0000 + 19970605) >>> 0;
const SC_V2 = (0xeffe0000 + 20140516) >>> 0;

export function parseDbi(bytes: Uint8Array, log: PdbIssueLog): Dbi | undefined {
  const r = new StreamReader(bytes);
  const signature = r.i32();
  r.u32(); // version header (19990903 for every current toolchain)
  const age = r.u32();
  r.u16(); // global symbol hash stream
  r.u16(); // build number
  r.u16(); // public symbol hash stream
  r.u16(); // mspdb DLL version
  const symbolRecordStream = r.u16();
  r.u16(); // mspdb DLL rebuild
  const sizes = [r.i32(), r.i32(), r.i32(), r.i32(), r.i32()];
  r.u32(); // MFC type server index
  const optionalHeaderSize = r.i32();
  const ecSize = r.i32();
  r.u16(); // flags
  const machine = r.u16();
  if (signature === undefined || age === undefined || machine === undefined || ecSize === undefined || optionalHeaderSize === undefined) {
    log.add('PDB_DBI_MALFORMED', 'the DBI stream is shorter than its 64-byte header');
    return undefined;
  }
  if (signature !== NEW_DBI_SIGNATURE) {
    log.add('PDB_UNSUPPORTED_VERSION', 'the DBI stream has the pre-VC 7 layout, which is not read');
    return undefined;
  }
  const [modSize, scSize, mapSize, sourceInfoSize, typeServerSize] = sizes as [number, number, number, number, number];
  // Substreams follow the header in this order; each must fit in what is left.
  const parts = [modSize, scSize, mapSize, sourceInfoSize, typeServerSize, ecSize, optionalHeaderSize];
  const slices: Uint8Array[] = [];
  let at = HEADER_SIZE;
  for (const size of parts) {
    if (size < 0 || size > bytes.byteLength - at) {
      log.add('PDB_DBI_MALFORMED', `a DBI substream of ${size} bytes does not fit in the ${bytes.byteLength}-byte stream`);
      slices.push(new Uint8Array(0));
      continue;
    }
    slices.push(bytes.subarray(at, at + size));
    at += size;
  }
  const optional = new StreamReader(slices[6] as Uint8Array);
  optional.skip(5 * 2);
  const sectionHeaderStream = optional.u16();
  return {
    age,
    machine,
    ...(symbolRecordStream !== undefined && symbolRecordStream !== NO_STREAM ? { symbolRecordStream } : {}),
    modules: parseModules(slices[0] as Uint8Array, log),
    sectionContributions: parseContributions(slices[1] as Uint8Array, log),
    sectionMap: parseSectionMap(slices[2] as Uint8Array, log),
    ...(sectionHeaderStream !== undefined && sectionHeaderStream !== NO_STREAM ? { sectionHeaderStream } : {}),
  };
}

/** Module info records: a 64-byte fixed part, two NUL-terminated names, padding to 4. */
function parseModules(bytes: Uint8Array, log: PdbIssueLog): DbiModule[] {
  const r = new StreamReader(bytes);
  const modules: DbiModule[] = [];
  while (r.remaining >= 64) {
    if (modules.length >= MAX_MODULES) {
      log.add('PDB_TOO_LARGE', `more than ${MAX_MODULES} modules; the rest were not read`);
      break;
    }
    const start = r.pos;
    r.skip(4 + 28 + 2);
    const stream = r.u16() as number;
    const symbolBytes = r.u32() as number;
    const c11Bytes = r.u32() as number;
    const c13Bytes = r.u32() as number;
    r.pos = start + 64;
    const name = r.cString();
    const objectFile = r.cString();
    if (name === undefined || objectFile === undefined) {
      log.add('PDB_DBI_MALFORMED', `module ${modules.length}: its name runs past the module list`);
      break;
    }
    r.alignTo(4);
    modules.push({ index: modules.length, name, objectFile, ...(stream !== NO_STREAM ? { stream } : {}), symbolBytes, c11Bytes, c13Bytes });
  }
  return modules;
}

function parseContributions(bytes: Uint8Array, log: PdbIssueLog): SectionContribution[] {
  const r = new StreamReader(bytes);
  const version = r.u32();
  const list: SectionContribution[] = [];
  if (version === undefined) return list;
  if (version !== SC_V60 && version !== SC_V2) {
    log.add('PDB_DBI_MALFORMED', `section contributions have an unknown version 0x${version.toString(16)}`);
    return list;
  }
  const entrySize = version === SC_V2 ? 32 : 28;
  while (r.remaining >= entrySize && list.length < MAX_CONTRIBUTIONS) {
    const start = r.pos;
    const section = r.u16() as number;
    r.skip(2);
    const offset = r.u32() as number;
    const size = r.u32() as number;
    const characteristics = r.u32() as number;
    const module = r.u16() as number;
    r.pos = start + entrySize;
    list.push({ section, offset, size, characteristics, module });
  }
  return list;
}

function parseSectionMap(bytes: Uint8Array, log: PdbIssueLog): SectionMapEntry[] {
  const r = new StreamReader(bytes);
  const count = r.u16();
  r.u16(); // logical segment count
  const list: SectionMapEntry[] = [];
  if (count === undefined) return list;
  if (count > MAX_SECTIONS || count * 20 > r.remaining) {
    log.add('PDB_DBI_MALFORMED', `the section map claims ${count} entries, more than its ${bytes.byteLength} bytes hold`);
  }
  while (list.length < count && r.remaining >= 20) {
    const flags = r.u16() as number;
    r.skip(4); // overlay, group
    const frame = r.u16() as number;
    r.skip(4); // section and class name
    const offset = r.u32() as number;
    const length = r.u32() as number;
    list.push({ flags, frame, offset, length });
  }
  return list;
}
