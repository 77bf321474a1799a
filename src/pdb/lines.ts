import type { PdbIssueLog } from './issues.js';
import { StreamReader } from './reader.js';

/** One line-table entry turned into a range: code [offset, offset + length) comes from `line`. */
export interface LineRange {
  segment: number;
  offset: number;
  length: number;
  line: number;
  /** Offset of the file's entry in DEBUG_S_FILECHKSMS. */
  fileChecksum: number;
}

export interface ModuleLines {
  ranges: LineRange[];
  /** File checksum offset → the file name's offset in the /names string table. */
  fileNames: Map<number, number>;
  /** Inlinee (function id) → where its source starts. */
  inlinees: Map<number, { fileChecksum: number; line: number }>;
}

const DEBUG_S_LINES = 0xf2;
const DEBUG_S_FILECHKSMS = 0xf4;
const DEBUG_S_INLINEELINES = 0xf6;
const SUBSECTION_IGNORE = 0x80000000;
const MAX_LINES = 1 << 20;

/** The C13 line information of one module: subsections `u32 kind, u32 length, data`, aligned to 4. */
export function parseC13(bytes: Uint8Array, what: string, log: PdbIssueLog): ModuleLines {
  const out: ModuleLines = { ranges: [], fileNames: new Map(), inlinees: new Map() };
  const r = new StreamReader(bytes);
  while (r.remaining >= 8) {
    const kind = r.u32() as number;
    const length = r.u32() as number;
    if (length > r.remaining) {
      log.add('PDB_LINES_MALFORMED', `${what}: a line subsection of ${length} bytes runs past the module stream`);
      break;
    }
    const body = bytes.subarray(r.pos, r.pos + length);
    if ((kind & SUBSECTION_IGNORE) === 0) {
      if (kind === DEBUG_S_LINES) lines(body, out, what, log);
      else if (kind === DEBUG_S_FILECHKSMS) checksums(body, out);
      else if (kind === DEBUG_S_INLINEELINES) inlinees(body, out);
    }
    r.pos += length;
    r.alignTo(4);
  }
  return out;
}

/**
 * `u32 offset, u16 segment, u16 flags, u32 size`, then file blocks `u32 file, u32 count,
 * u32 bytes, lines[count] (, columns[count])`: the block size skips the columns.
 */
function lines(bytes: Uint8Array, out: ModuleLines, what: string, log: PdbIssueLog): void {
  const r = new StreamReader(bytes);
  const base = r.u32();
  const segment = r.u16();
  const flags = r.u16();
  const size = r.u32();
  if (base === undefined || segment === undefined || flags === undefined || size === undefined) return;
  while (r.remaining >= 12) {
    const blockStart = r.pos;
    const fileChecksum = r.u32() as number;
    const count = r.u32() as number;
    const blockBytes = r.u32() as number;
    if (count > r.remaining / 8 || blockBytes < 12 || blockBytes > bytes.byteLength - blockStart) {
      log.add('PDB_LINES_MALFORMED', `${what}: a line block claims ${count} lines in ${blockBytes} bytes`);
      return;
    }
    const entries: Array<{ offset: number; line: number }> = [];
    for (let i = 0; i < count; i++) {
      const offset = r.u32() as number;
      const bits = r.u32() as number;
      entries.push({ offset, line: bits & 0xffffff });
    }
    for (let i = 0; i < entries.length; i++) {
      if (out.ranges.length >= MAX_LINES) {
        log.add('PDB_TOO_LARGE', `more than ${MAX_LINES} line entries; the rest were not read`);
        return;
      }
      const e = entries[i] as { offset: number; line: number };
      const next = i + 1 < entries.length ? (entries[i + 1] as { offset: number }).offset : size;
      // Every entry is kept, empty ones too (the index skips them and hidden lines).
      out.ranges.push({ segment, offset: base + e.offset, length: Math.max(0, next - e.offset), line: e.line, fileChecksum });
    }
    r.pos = blockStart + blockBytes;
  }
}

/** Entries `u32 name, u8 size, u8 kind, checksum[size]`, each aligned to 4. */
function checksums(bytes: Uint8Array, out: ModuleLines): void {
  const r = new StreamReader(bytes);
  while (r.remaining >= 6) {
    const at = r.pos;
    const name = r.u32() as number;
    const size = r.u8() as number;
    r.u8();
    if (!r.skip(size)) return;
    r.alignTo(4);
    out.fileNames.set(at, name);
  }
}

/** `u32 signature` (0, or 1 with extra files), then `u32 inlinee, u32 file, u32 line (, u32 count, u32 files[count])`. */
function inlinees(bytes: Uint8Array, out: ModuleLines): void {
  const r = new StreamReader(bytes);
  const signature = r.u32();
  if (signature !== 0 && signature !== 1) return;
  while (r.remaining >= 12) {
    const inlinee = r.u32() as number;
    const fileChecksum = r.u32() as number;
    const line = r.u32() as number;
    out.inlinees.set(inlinee, { fileChecksum, line });
    if (signature === 1) {
      const extra = r.u32();
      if (extra === undefined || !r.skip(extra * 4)) return;
    }
  }
}
