/** Damaged and hostile PDBs are data: problems, never exceptions, and bounded work. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePdb } from '../../src/pdb/index.js';
import { PdbIssueLog } from '../../src/pdb/issues.js';
import { openMsf } from '../../src/pdb/msf.js';
import { pdbFixtures } from '../helpers/pdbutil.js';

const original = new Uint8Array(readFileSync(join(pdbFixtures, 'rxdrv.x64.pdb')));

/** The MSF layout of the fixture, read here with DataView (not through src/pdb). */
function layout(b: Uint8Array) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const blockSize = dv.getUint32(32, true);
  const mapBlock = dv.getUint32(52, true);
  const directoryBlock = dv.getUint32(mapBlock * blockSize, true);
  const directory = directoryBlock * blockSize;
  const streams = dv.getUint32(directory, true);
  const sizeAt = (i: number) => directory + 4 + i * 4;
  // the block list of stream i starts after every size and the lists before it
  const blocksAt = (i: number) => {
    let at = directory + 4 + streams * 4;
    for (let k = 0; k < i; k++) {
      const size = dv.getUint32(sizeAt(k), true);
      if (size !== 0xffffffff) at += Math.ceil(size / blockSize) * 4;
    }
    return at;
  };
  return { dv, blockSize, mapBlock, directory, streams, sizeAt, blocksAt };
}

function mutated(f: (l: ReturnType<typeof layout>) => void): Uint8Array {
  const copy = original.slice();
  f(layout(copy));
  return copy;
}

const codes = (r: ReturnType<typeof parsePdb>) => (r.ok ? r.pdb.problems : r.problems).map((p) => p.code);

describe('hostile PDBs', () => {
  it('the fixture itself is read without problems (the mutations below start from a clean file)', () => {
    const r = parsePdb(original);
    assert.ok(r.ok);
    assert.deepEqual(r.pdb.problems, []);
    assert.ok(layout(original.slice()).streams > 10);
  });

  it('truncated at every 256 bytes: never throws; once the directory is gone the PDB is refused with one problem', () => {
    let refused = 0;
    let damaged = 0;
    for (let n = 0; n < original.length; n += 256) {
      const r = parsePdb(original.subarray(0, n));
      if (!r.ok) {
        refused++;
        assert.ok(r.problems.length >= 1 && r.problems.length <= 3, `${n}: ${JSON.stringify(r.problems)}`);
      } else if (r.pdb.problems.length > 0) damaged++;
    }
    assert.ok(refused > 0, 'short files are refused');
    assert.equal(parsePdb(original.subarray(0, 40)).ok, false);
    assert.ok(refused + damaged === Math.ceil(original.length / 256), 'every truncation is noticed');
  });

  it('not a PDB at all: PDB_NOT_MSF', () => {
    assert.deepEqual(codes(parsePdb(new TextEncoder().encode('MZ this is a driver, not a PDB'))), ['PDB_NOT_MSF']);
    assert.deepEqual(codes(parsePdb(new Uint8Array(0))), ['PDB_NOT_MSF']);
  });

  it('a block size that is not a power of two: PDB_NOT_MSF', () => {
    assert.deepEqual(codes(parsePdb(mutated((l) => l.dv.setUint32(32, 4095, true)))), ['PDB_NOT_MSF']);
  });

  it('corrupted block map: the directory block map points past the end of the file', () => {
    assert.deepEqual(codes(parsePdb(mutated((l) => l.dv.setUint32(52, 0x7fffffff, true)))), ['PDB_BLOCK_MAP_MALFORMED']);
  });

  it('corrupted block map: the directory lives in a block past the end', () => {
    const r = parsePdb(mutated((l) => l.dv.setUint32(l.mapBlock * l.blockSize, 0xfffffff0, true)));
    assert.deepEqual(codes(r), ['PDB_BLOCK_MAP_MALFORMED']);
  });

  it('huge counts: a directory of 4 GiB and 4 billion streams are refused, not allocated', () => {
    assert.deepEqual(codes(parsePdb(mutated((l) => l.dv.setUint32(44, 0xffffffff, true)))), ['PDB_BLOCK_MAP_MALFORMED']);
    assert.deepEqual(codes(parsePdb(mutated((l) => l.dv.setUint32(l.directory, 0xffffffff, true)))), ['PDB_BLOCK_MAP_MALFORMED']);
  });

  it('huge counts: the DBI stream claims 4 GiB: read as a problem, the info stream still gives GUID and age', () => {
    const r = parsePdb(mutated((l) => l.dv.setUint32(l.sizeAt(3), 0xfffffff0, true)));
    assert.ok(r.ok);
    assert.ok(codes(r).includes('PDB_STREAM_MALFORMED'), codes(r).join());
    assert.equal(r.pdb.modules.length, 0);
    assert.equal(r.pdb.info.age, 1);
  });

  it('cycles: every block of a stream is the same block, and the directory block map points at the superblock', () => {
    const same = parsePdb(
      mutated((l) => {
        const at = l.blocksAt(3);
        const first = l.dv.getUint32(at, true);
        for (let k = 0; k < Math.ceil(l.dv.getUint32(l.sizeAt(3), true) / l.blockSize); k++) l.dv.setUint32(at + 4 * k, first, true);
      }),
    );
    assert.ok(same.ok || same.problems.length > 0);
    const self = parsePdb(mutated((l) => l.dv.setUint32(52, 0, true)));
    assert.equal(self.ok, false);
    assert.ok(codes(self).length >= 1);
  });

  it('400 streams that all interleave the same two blocks: copies stay bounded (PDB_TOO_LARGE), each stream is checked', () => {
    const msf = interleavedStreams(400, 100);
    const log = new PdbIssueLog();
    const m = openMsf(msf, log);
    assert.ok(m);
    let read = 0;
    let copied = 0;
    for (let i = 0; i < m.streamCount; i++) {
      const s = m.stream(i);
      if (s) {
        read++;
        copied += s.byteLength;
      }
    }
    assert.ok(read > 0 && read < 400, `${read} streams read`);
    assert.ok(copied <= 2 * msf.byteLength + (1 << 20), `${copied} bytes copied`);
    assert.deepEqual([...new Set(log.items.map((p) => p.code))].sort(), ['PDB_MORE_PROBLEMS', 'PDB_TOO_LARGE']);
  });

  it('random damage in the directory and stream headers: never throws', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 300; i++) {
      const copy = original.slice();
      const l = layout(copy);
      for (let k = 0; k < 8; k++) {
        const region = next() % 3;
        const at = region === 0 ? l.directory + (next() % 256) : region === 1 ? next() % 64 : next() % copy.length;
        copy[at] = next() & 0xff;
      }
      const r = parsePdb(copy);
      assert.ok(r.ok ? Array.isArray(r.pdb.problems) : r.problems.length > 0);
    }
  });
});

/**
 * A big MSF (block size 512) whose `count` streams each hold `blocks` blocks that alternate
 * between the file's last two blocks: every stream is in bounds, none is contiguous.
 */
function interleavedStreams(count: number, blocks: number): Uint8Array {
  const bs = 512;
  const dirBytes = 4 + 4 * count + 4 * count * blocks;
  const dirBlocks = Math.ceil(dirBytes / bs);
  const mapBlocks = Math.ceil((dirBlocks * 4) / bs);
  const total = 1 + mapBlocks + dirBlocks + 2;
  const b = new Uint8Array(total * bs);
  const dv = new DataView(b.buffer);
  b.set(new TextEncoder().encode('Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0'), 0);
  dv.setUint32(32, bs, true);
  dv.setUint32(40, total, true);
  dv.setUint32(44, dirBytes, true);
  dv.setUint32(52, 1, true);
  const firstDir = 1 + mapBlocks;
  for (let i = 0; i < dirBlocks; i++) dv.setUint32(bs + 4 * i, firstDir + i, true);
  const dir = firstDir * bs;
  dv.setUint32(dir, count, true);
  for (let i = 0; i < count; i++) dv.setUint32(dir + 4 + 4 * i, blocks * bs, true);
  let at = dir + 4 + 4 * count;
  for (let i = 0; i < count; i++) for (let k = 0; k < blocks; k++, at += 4) dv.setUint32(at, total - 2 + (k % 2), true);
  assert.ok(blocks * bs <= b.byteLength);
  return b;
}

describe('MSF 2.00 (the small container of VC 2-6 PDBs)', () => {
  /** Header (44-byte magic, u32 block size, u16 free map, u16 blocks, u32 directory bytes, u32, u16 directory blocks), a directory, the info stream. */
  function smallMsf(age: number): Uint8Array {
    const bs = 512;
    const b = new Uint8Array(3 * bs);
    const dv = new DataView(b.buffer);
    b.set(new TextEncoder().encode('Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0'), 0);
    dv.setUint32(44, bs, true);
    dv.setUint16(50, 3, true);
    const dirBytes = 4 + 2 * 8 + 2;
    dv.setUint32(52, dirBytes, true);
    dv.setUint16(60, 1, true); // the directory is block 1
    const dir = bs;
    dv.setUint16(dir, 2, true); // two streams: 0 (empty) and 1 (info)
    dv.setUint32(dir + 4, 0, true);
    dv.setUint32(dir + 12, 48, true);
    dv.setUint16(dir + 20, 2, true); // stream 1 is block 2
    const info = 2 * bs;
    dv.setUint32(info, 19970604, true);
    dv.setUint32(info + 8, age, true);
    for (let i = 0; i < 16; i++) b[info + 12 + i] = i + 1;
    return b; // the named stream map after the GUID: all zeros (empty)
  }

  it('reads the info stream through 16-bit block numbers: GUID and age; no DBI, no modules', () => {
    const r = parsePdb(smallMsf(7));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.equal(r.pdb.info.guid, '04030201-0605-0807-090A-0B0C0D0E0F10');
    assert.equal(r.pdb.age, 7);
    assert.deepEqual(r.pdb.modules, []);
  });

  it('a 2.00 directory block past the end: PDB_BLOCK_MAP_MALFORMED', () => {
    const b = smallMsf(1);
    new DataView(b.buffer).setUint16(60, 0x7fff, true);
    assert.deepEqual(codes(parsePdb(b)), ['PDB_BLOCK_MAP_MALFORMED']);
  });
});
