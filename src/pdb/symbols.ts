import type { PdbIssueLog } from './issues.js';
import { StreamReader } from './reader.js';

/** A function from S_GPROC32 / S_LPROC32 (and their _ID forms) in a module's symbols. */
export interface ProcedureSymbol {
  name: string;
  segment: number;
  offset: number;
  length: number;
  global: boolean;
}

/** S_PUB32 from the global symbol record stream: a public name at an address. */
export interface PublicSymbol {
  name: string;
  segment: number;
  offset: number;
  /** The "function" flag (cvpsfFunction): code, not data. */
  isFunction: boolean;
}

/**
 * S_INLINESITE: code of an inlined function inside `parent`. Its binary annotations are
 * decoded into the ranges it covers; `lineOffset`s are relative to the inlinee's first
 * line, which the module's DEBUG_S_INLINEELINES gives (matched by `inlinee`).
 */
export interface InlineSite {
  inlinee: number;
  segment: number;
  ranges: InlineRange[];
}

export interface InlineRange {
  offset: number;
  length: number;
  lineOffset: number;
  /** A file checksum offset when the annotations changed file; else the inlinee's own file. */
  fileChecksum?: number;
}

const S_END = 0x0006;
const S_PUB32 = 0x110e;
const S_LPROC32 = 0x110f;
const S_GPROC32 = 0x1110;
const S_LPROC32_ID = 0x1146;
const S_GPROC32_ID = 0x1147;
const S_LPROC32_DPC = 0x1155;
const S_LPROC32_DPC_ID = 0x1156;
const S_INLINESITE = 0x114d;
const S_INLINESITE2 = 0x115d;
const S_PROC_ID_END = 0x114f;

const PROC_KINDS = new Set([S_LPROC32, S_GPROC32, S_LPROC32_ID, S_GPROC32_ID, S_LPROC32_DPC, S_LPROC32_DPC_ID]);
const GLOBAL_PROCS = new Set([S_GPROC32, S_GPROC32_ID]);
/** Symbols read per stream; a hostile stream of 4-byte records stops here. */
const MAX_SYMBOLS = 1 << 20;
const MAX_ANNOTATION_RANGES = 4096;

export interface ModuleSymbols {
  procedures: ProcedureSymbol[];
  inlineSites: InlineSite[];
}

/** Walks symbol records `u16 length, u16 kind, data[length - 2]` in bytes [start, end). */
function* records(bytes: Uint8Array, start: number, end: number, what: string, log: PdbIssueLog): Generator<{ kind: number; data: StreamReader; end: number }> {
  const r = new StreamReader(bytes.subarray(0, Math.min(end, bytes.byteLength)), start);
  let n = 0;
  while (r.remaining >= 4) {
    if (++n > MAX_SYMBOLS) {
      log.add('PDB_TOO_LARGE', `${what}: more than ${MAX_SYMBOLS} symbols; the rest were not read`);
      return;
    }
    const at = r.pos;
    const length = r.u16() as number;
    const kind = r.u16() as number;
    if (length < 2 || length - 2 > r.remaining) {
      log.add('PDB_SYMBOLS_MALFORMED', `${what}: the symbol record at offset ${at} runs past the stream`);
      return;
    }
    const recordEnd = at + 2 + length;
    yield { kind, data: new StreamReader(r.bytes.subarray(0, recordEnd), at + 4), end: recordEnd };
    r.pos = recordEnd;
  }
}

export function parseModuleSymbols(bytes: Uint8Array, end: number, what: string, log: PdbIssueLog): ModuleSymbols {
  const procedures: ProcedureSymbol[] = [];
  const inlineSites: InlineSite[] = [];
  // The procedure an inline site belongs to: its annotations count code from its start.
  let current: ProcedureSymbol | undefined;
  for (const { kind, data } of records(bytes, 4, end, what, log)) {
    if (PROC_KINDS.has(kind)) {
      data.skip(12); // parent, end, next
      const length = data.u32();
      data.skip(12); // debug start, debug end, type
      const offset = data.u32();
      const segment = data.u16();
      data.u8(); // flags
      const name = data.cString();
      if (length === undefined || offset === undefined || segment === undefined || name === undefined) {
        log.add('PDB_SYMBOLS_MALFORMED', `${what}: a procedure record is truncated`);
        continue;
      }
      current = { name, segment, offset, length, global: GLOBAL_PROCS.has(kind) };
      procedures.push(current);
    } else if ((kind === S_INLINESITE || kind === S_INLINESITE2) && current) {
      data.skip(8); // parent, end
      const inlinee = data.u32();
      if (kind === S_INLINESITE2) data.skip(4); // invocations
      if (inlinee === undefined) continue;
      inlineSites.push({ inlinee, segment: current.segment, ranges: decodeAnnotations(data, current.offset) });
    } else if (kind === S_END || kind === S_PROC_ID_END) {
      // S_END also closes blocks and thunks; the current procedure stays until the next one.
    }
  }
  return { procedures, inlineSites };
}

export function parsePublics(bytes: Uint8Array, log: PdbIssueLog): PublicSymbol[] {
  const list: PublicSymbol[] = [];
  for (const { kind, data } of records(bytes, 0, bytes.byteLength, 'the global symbol records', log)) {
    if (kind !== S_PUB32) continue;
    const flags = data.u32();
    const offset = data.u32();
    const segment = data.u16();
    const name = data.cString();
    if (flags === undefined || offset === undefined || segment === undefined || name === undefined) {
      log.add('PDB_SYMBOLS_MALFORMED', 'an S_PUB32 record is truncated');
      continue;
    }
    list.push({ name, segment, offset, isFunction: (flags & 2) !== 0 });
  }
  return list;
}

/**
 * Binary annotations: opcodes with compressed operands that move a (code offset, line,
 * file) state; each code-offset change starts a range at the current line.
 */
function decodeAnnotations(r: StreamReader, functionOffset: number): InlineRange[] {
  const ranges: InlineRange[] = [];
  let code = functionOffset;
  let line = 0;
  let file: number | undefined;
  let open: InlineRange | undefined;
  const start = () => {
    if (open && open.length === 0) open.length = code - open.offset;
    if (ranges.length >= MAX_ANNOTATION_RANGES) return;
    open = { offset: code, length: 0, lineOffset: line, ...(file !== undefined ? { fileChecksum: file } : {}) };
    ranges.push(open);
  };
  for (;;) {
    const op = compressed(r);
    if (op === undefined || op === 0) break;
    const a = compressed(r);
    if (a === undefined) break;
    switch (op) {
      case 1: // CodeOffset
        code = functionOffset + a;
        start();
        break;
      case 2: // ChangeCodeOffsetBase
        break;
      case 3: // ChangeCodeOffset
        code += a;
        start();
        break;
      case 4: // ChangeCodeLength
        if (open) open.length = a;
        code += a;
        break;
      case 5: // ChangeFile
        file = a;
        break;
      case 6: // ChangeLineOffset
        line += signed(a);
        break;
      case 11: // ChangeCodeOffsetAndLineOffset
        code += a & 0xf;
        line += signed(a >>> 4);
        start();
        break;
      case 12: {
        // ChangeCodeLengthAndCodeOffset: length, then offset
        const b = compressed(r);
        if (b === undefined) return ranges;
        code += b;
        start();
        if (open) open.length = a;
        break;
      }
      default:
        // 7 line end delta, 8 range kind, 9/10/13 columns: nothing we use
        break;
    }
  }
  return ranges;
}

/** The CodeView compressed unsigned integer (1, 2 or 4 bytes). */
function compressed(r: StreamReader): number | undefined {
  const b = r.u8();
  if (b === undefined) return undefined;
  if ((b & 0x80) === 0) return b;
  const b1 = r.u8();
  if (b1 === undefined) return undefined;
  if ((b & 0xc0) === 0x80) return ((b & 0x3f) << 8) | b1;
  const b2 = r.u8();
  const b3 = r.u8();
  if ((b & 0xe0) !== 0xc0 || b2 === undefined || b3 === undefined) return undefined;
  return (((b & 0x1f) << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

function signed(v: number): number {
  return v & 1 ? -(v >>> 1) : v >>> 1;
}
