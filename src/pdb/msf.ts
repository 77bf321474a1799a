import { ByteView } from '../pe/bytes.js';
import type { PdbIssueLog } from './issues.js';

/**
 * The MSF container a PDB lives in: the file is cut into fixed-size blocks, and a stream
 * directory lists, for each stream, its size and the blocks that hold it. "Big" MSF
 * (7.00, every PDB since VC 7) uses 32-bit block numbers; "small" MSF (the PDB 2.00
 * format of VC 2-6) uses 16-bit ones.
 */
export interface Msf {
  kind: 'big' | 'small';
  blockSize: number;
  streamCount: number;
  /** A stream's bytes, or undefined for a missing, nil or malformed stream (a problem is logged). */
  stream(index: number): Uint8Array | undefined;
}

const BIG_MAGIC = 'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0';
const SMALL_MAGIC = 'Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0';
const NIL_STREAM = 0xffffffff;
const MAX_STREAMS = 0x10000;
const BLOCK_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768]);

export function startsWithMagic(bytes: Uint8Array, magic: string): boolean {
  if (bytes.byteLength < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function isPdb(bytes: Uint8Array): boolean {
  return startsWithMagic(bytes, BIG_MAGIC) || startsWithMagic(bytes, SMALL_MAGIC);
}

export function openMsf(bytes: Uint8Array, log: PdbIssueLog): Msf | undefined {
  const header = readHeader(bytes, log);
  if (!header) return undefined;
  const { kind, blockSize, directorySize, mapAt } = header;
  if (!BLOCK_SIZES.has(blockSize)) {
    log.add('PDB_NOT_MSF', `the MSF block size ${blockSize} is not a power of two from 512 to 32768`);
    return undefined;
  }
  const width = kind === 'big' ? 4 : 2;
  const directoryBlocks = Math.ceil(directorySize / blockSize);
  // The block map (the directory's block numbers) must itself be file bytes.
  const map = new ByteView(bytes).slice(mapAt, directoryBlocks * width);
  if (!map || directorySize > bytes.byteLength) {
    log.add('PDB_BLOCK_MAP_MALFORMED', `the stream directory (${directorySize} bytes, block map at offset ${mapAt}) lies outside the file`);
    return undefined;
  }
  const mapView = new ByteView(map);
  const blocks: number[] = [];
  for (let i = 0; i < directoryBlocks; i++) blocks.push((width === 4 ? mapView.u32(i * 4) : mapView.u16(i * 2)) as number);
  const base = { kind, blockSize, blockCount: Math.min(header.blockCount, Math.floor(bytes.byteLength / blockSize)) };
  const directory = gather(bytes, base, blocks, directorySize);
  if (!directory) {
    log.add('PDB_BLOCK_MAP_MALFORMED', 'the stream directory names a block outside the file');
    return undefined;
  }
  return streamsOf(bytes, { ...base, directory }, log);
}

interface Layout {
  kind: Msf['kind'];
  blockSize: number;
  blockCount: number;
  /** The stream directory's bytes. */
  directory: Uint8Array;
}

interface Header {
  kind: Msf['kind'];
  blockSize: number;
  blockCount: number;
  directorySize: number;
  /** File offset of the directory's block numbers. */
  mapAt: number;
}

/**
 * Big MSF: `magic[32], u32 blockSize, u32 freeMap, u32 blocks, u32 directorySize, u32 _,
 * u32 blockMapBlock`. Small MSF: `magic[44], u32 blockSize, u16 freeMap, u16 blocks,
 * u32 directorySize, u32 _, u16 directoryBlocks[]`.
 */
function readHeader(bytes: Uint8Array, log: PdbIssueLog): Header | undefined {
  const v = new ByteView(bytes);
  type Maybe<T> = { [K in keyof T]: T[K] | undefined };
  let header: Maybe<Header>;
  if (startsWithMagic(bytes, BIG_MAGIC)) {
    const at = BIG_MAGIC.length;
    const mapBlock = v.u32(at + 20);
    const blockSize = v.u32(at);
    header = { kind: 'big', blockSize, blockCount: v.u32(at + 8), directorySize: v.u32(at + 12), mapAt: mapBlock === undefined || blockSize === undefined ? undefined : mapBlock * blockSize };
  } else if (startsWithMagic(bytes, SMALL_MAGIC)) {
    const at = SMALL_MAGIC.length;
    header = { kind: 'small', blockSize: v.u32(at), blockCount: v.u16(at + 6), directorySize: v.u32(at + 8), mapAt: at + 16 };
  } else {
    log.add('PDB_NOT_MSF', 'not a PDB: the file does not start with an MSF signature');
    return undefined;
  }
  const { kind, blockSize, blockCount, directorySize, mapAt } = header;
  if (kind === undefined || blockSize === undefined || blockCount === undefined || directorySize === undefined || mapAt === undefined) {
    log.add('PDB_NOT_MSF', 'the MSF header is truncated');
    return undefined;
  }
  return { kind, blockSize, blockCount, directorySize, mapAt };
}

/**
 * Reads the stream directory: big MSF is `u32 count, u32 sizes[count], u32 blocks…`;
 * small MSF is `u16 count, u16 pad, {u32 size, u32 pad}[count], u16 blocks…`.
 */
function streamsOf(bytes: Uint8Array, layout: Layout, log: PdbIssueLog): Msf | undefined {
  const dir = new ByteView(layout.directory);
  const big = layout.kind === 'big';
  const count = big ? dir.u32(0) : dir.u16(0);
  if (count === undefined || count > MAX_STREAMS) {
    log.add('PDB_BLOCK_MAP_MALFORMED', `the stream directory claims ${count ?? 'no'} streams (at most ${MAX_STREAMS} are read)`);
    return undefined;
  }
  const sizeAt = (i: number) => (big ? 4 + i * 4 : 4 + i * 8);
  const width = big ? 4 : 2;
  let blockAt = big ? 4 + count * 4 : 4 + count * 8;
  const starts: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const size = dir.u32(sizeAt(i));
    if (size === undefined) {
      log.add('PDB_BLOCK_MAP_MALFORMED', `the stream directory ends inside the size of stream ${i}`);
      return undefined;
    }
    starts.push(blockAt);
    sizes.push(size);
    if (size !== NIL_STREAM) blockAt += Math.ceil(size / layout.blockSize) * width;
  }
  // Streams are cut out on demand and kept (zero-copy when their blocks are consecutive).
  const cache = new Map<number, Uint8Array | undefined>();
  // A hostile directory can point many streams at the same blocks: copies are bounded in all.
  let copied = 0;
  const copyBudget = 2 * bytes.byteLength + (1 << 20);
  return {
    kind: layout.kind,
    blockSize: layout.blockSize,
    streamCount: count,
    stream(index) {
      if (cache.has(index)) return cache.get(index);
      let result: Uint8Array | undefined;
      const size = sizes[index];
      const start = starts[index];
      if (size === undefined || start === undefined || size === NIL_STREAM) result = undefined;
      else if (size > bytes.byteLength) log.add('PDB_STREAM_MALFORMED', `stream ${index} claims ${size} bytes, more than the whole file`);
      else {
        const n = Math.ceil(size / layout.blockSize);
        const blocks: number[] = [];
        for (let i = 0; i < n; i++) {
          const b = big ? dir.u32(start + i * 4) : dir.u16(start + i * 2);
          if (b === undefined) break;
          blocks.push(b);
        }
        if (blocks.length < n) log.add('PDB_BLOCK_MAP_MALFORMED', `the stream directory ends inside the block list of stream ${index}`);
        else if (!contiguous(blocks) && copied + size > copyBudget) log.add('PDB_TOO_LARGE', `stream ${index} was not read: the streams read so far already copy ${copied} bytes`);
        else {
          result = gather(bytes, layout, blocks, size);
          if (!result) log.add('PDB_BLOCK_MAP_MALFORMED', `stream ${index} names a block outside the file`);
          else if (!contiguous(blocks)) copied += size;
        }
      }
      cache.set(index, result);
      return result;
    },
  };
}

function contiguous(blocks: readonly number[]): boolean {
  for (let i = 1; i < blocks.length; i++) if (blocks[i] !== (blocks[i - 1] as number) + 1) return false;
  return true;
}

/** The `size` bytes held by `blocks`: a view when they are consecutive, else a copy. */
function gather(bytes: Uint8Array, layout: Pick<Layout, 'blockSize' | 'blockCount'>, blocks: readonly number[], size: number): Uint8Array | undefined {
  const bs = layout.blockSize;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i] as number;
    const need = Math.min(bs, size - i * bs);
    if (b >= layout.blockCount || b * bs + need > bytes.byteLength) return undefined;
  }
  if (blocks.length === 0) return new Uint8Array(0);
  const first = blocks[0] as number;
  if (contiguous(blocks)) return bytes.subarray(first * bs, first * bs + size);
  const out = new Uint8Array(size);
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i] as number;
    const need = Math.min(bs, size - i * bs);
    out.set(bytes.subarray(b * bs, b * bs + need), i * bs);
  }
  return out;
}
