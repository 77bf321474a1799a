import { ByteView } from '../pe/bytes.js';

/**
 * A cursor over one stream's bytes: every read is bounds-checked and returns undefined
 * past the end, so hostile lengths and counts end a loop instead of throwing.
 */
export class StreamReader {
  readonly view: ByteView;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.view = new ByteView(bytes);
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  u8(): number | undefined {
    const v = this.view.u8(this.pos);
    if (v !== undefined) this.pos += 1;
    return v;
  }

  u16(): number | undefined {
    const v = this.view.u16(this.pos);
    if (v !== undefined) this.pos += 2;
    return v;
  }

  u32(): number | undefined {
    const v = this.view.u32(this.pos);
    if (v !== undefined) this.pos += 4;
    return v;
  }

  i32(): number | undefined {
    const v = this.u32();
    return v === undefined ? undefined : v | 0;
  }

  skip(n: number): boolean {
    if (!this.view.has(this.pos, n)) return false;
    this.pos += n;
    return true;
  }

  /** A NUL-terminated string (UTF-8, as PDBs store names), at most maxLength bytes. */
  cString(maxLength = 4096): string | undefined {
    const s = cStringAt(this.bytes, this.pos, maxLength);
    if (s === undefined) return undefined;
    this.pos += s.byteLength + 1;
    return s.text;
  }

  alignTo(n: number): void {
    const r = this.pos % n;
    if (r !== 0) this.pos = Math.min(this.bytes.byteLength, this.pos + n - r);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The string at `at` up to its NUL; undefined when there is no NUL within maxLength bytes. */
export function cStringAt(bytes: Uint8Array, at: number, maxLength = 4096): { text: string; byteLength: number } | undefined {
  if (!Number.isInteger(at) || at < 0 || at >= bytes.byteLength) return undefined;
  const end = Math.min(bytes.byteLength, at + maxLength);
  for (let i = at; i < end; i++) {
    if (bytes[i] === 0) return { text: utf8.decode(bytes.subarray(at, i)), byteLength: i - at };
  }
  return undefined;
}

/** A GUID as Windows writes it (Data1-3 little-endian), upper case, as CodeViewInfo.guid. */
export function guidString(g: Uint8Array): string {
  const h = (i: number) => (g[i] ?? 0).toString(16).padStart(2, '0');
  return [
    [3, 2, 1, 0].map(h).join(''),
    [5, 4].map(h).join(''),
    [7, 6].map(h).join(''),
    [8, 9].map(h).join(''),
    [10, 11, 12, 13, 14, 15].map(h).join(''),
  ]
    .join('-')
    .toUpperCase();
}
