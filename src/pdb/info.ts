import type { PdbIssueLog } from './issues.js';
import { cStringAt, guidString, StreamReader } from './reader.js';

/** The PDB info stream (stream 1): which build the PDB belongs to, and its named streams. */
export interface PdbInfo {
  version: number;
  signature: number;
  age: number;
  guid: string;
  /** Named streams ("/names", "/LinkInfo" …) and their stream numbers. */
  namedStreams: Map<string, number>;
}

const MAX_NAMED_STREAMS = 4096;

export function parseInfoStream(bytes: Uint8Array, log: PdbIssueLog): PdbInfo | undefined {
  const r = new StreamReader(bytes);
  const version = r.u32();
  const signature = r.u32();
  const age = r.u32();
  const guid = bytes.subarray(12, 28);
  if (version === undefined || signature === undefined || age === undefined || guid.byteLength !== 16) {
    log.add('PDB_INFO_MALFORMED', 'the PDB info stream is shorter than its 28-byte header');
    return undefined;
  }
  r.pos = 28;
  return { version, signature, age, guid: guidString(guid), namedStreams: namedStreams(r, log) };
}

/**
 * The named stream map: `u32 size, chars[size]`, then a hash table of (name offset,
 * stream) pairs: `u32 count, u32 capacity, present bit vector, deleted bit vector`, then
 * one pair per present bucket.
 */
function namedStreams(r: StreamReader, log: PdbIssueLog): Map<string, number> {
  const names = new Map<string, number>();
  const bad = (why: string) => {
    log.add('PDB_INFO_MALFORMED', `the named stream map ${why}`);
    return names;
  };
  const size = r.u32();
  if (size === undefined || size > r.remaining) return bad('is truncated');
  const strings = r.bytes.subarray(r.pos, r.pos + size);
  r.pos += size;
  const count = r.u32();
  const capacity = r.u32();
  if (count === undefined || capacity === undefined) return bad('is truncated');
  if (count > MAX_NAMED_STREAMS || count > capacity) return bad(`claims ${count} entries in ${capacity} buckets`);
  const present = bitVector(r);
  if (present === undefined || bitVector(r) === undefined) return bad('has a truncated bit vector');
  for (let i = 0; i < present; i++) {
    const nameAt = r.u32();
    const stream = r.u32();
    if (nameAt === undefined || stream === undefined) return bad('ends inside an entry');
    const name = cStringAt(strings, nameAt, 1024);
    if (name) names.set(name.text, stream);
  }
  return names;
}

/** Skips a `u32 words, u32 bits[words]` vector; returns how many bits are set (at most MAX_NAMED_STREAMS). */
function bitVector(r: StreamReader): number | undefined {
  const words = r.u32();
  if (words === undefined || words > r.remaining / 4) return undefined;
  let set = 0;
  for (let i = 0; i < words; i++) {
    let w = r.u32() as number;
    while (w !== 0 && set <= MAX_NAMED_STREAMS) {
      w &= w - 1;
      set++;
    }
  }
  return Math.min(set, MAX_NAMED_STREAMS);
}

/** The "/names" string table: `u32 0xEFFEEFFE, u32 version, u32 size, chars[size]`, then its hash. */
export interface StringTable {
  at(offset: number): string | undefined;
}

const STRING_TABLE_SIGNATURE = 0xeffeeffe;

export function parseStringTable(bytes: Uint8Array, log: PdbIssueLog): StringTable | undefined {
  const r = new StreamReader(bytes);
  const signature = r.u32();
  r.u32();
  const size = r.u32();
  if (signature !== STRING_TABLE_SIGNATURE || size === undefined || size > r.remaining) {
    log.add('PDB_STRING_TABLE_MALFORMED', 'the /names string table has no valid header');
    return undefined;
  }
  const strings = bytes.subarray(12, 12 + size);
  return { at: (offset) => cStringAt(strings, offset, 4096)?.text };
}
