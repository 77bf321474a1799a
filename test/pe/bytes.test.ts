import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteView } from '../../src/pe/bytes.js';

describe('ByteView', () => {
  const view = new ByteView(new Uint8Array([0x4d, 0x5a, 0x01, 0x02, 0x03, 0x04, 0x41, 0x42, 0x00]));

  it('reads little-endian values inside the buffer', () => {
    assert.equal(view.u16(0), 0x5a4d);
    assert.equal(view.u32(2), 0x04030201);
  });

  it('returns undefined instead of reading past the end', () => {
    assert.equal(view.u32(6), undefined);
    assert.equal(view.u16(8), undefined);
    assert.equal(view.u8(9), undefined);
    assert.equal(view.u64(2), undefined);
  });

  it('rejects negative, fractional and overflowing ranges', () => {
    assert.equal(view.has(-1, 1), false);
    assert.equal(view.has(0.5, 1), false);
    assert.equal(view.has(4, Number.MAX_SAFE_INTEGER), false);
    assert.equal(view.has(0xffffffff, 4), false);
    assert.equal(view.slice(8, 2), undefined);
  });

  it('slices without copying', () => {
    const s = view.slice(6, 2) as Uint8Array;
    assert.equal(s.buffer, view.bytes.buffer);
    assert.deepEqual([...s], [0x41, 0x42]);
  });

  it('reads C strings only when terminated within the limit', () => {
    assert.equal(view.cString(6), 'AB');
    assert.equal(view.cString(6, 2), undefined);
    assert.equal(view.cString(100), undefined);
  });
});
