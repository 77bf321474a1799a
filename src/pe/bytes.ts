/**
 * A bounds-checked, zero-copy view over a file's bytes. It is the only code in the
 * reader that touches DataView: every read returns `undefined` instead of throwing,
 * so a hostile header can never push a read past the end of the buffer.
 */
export class ByteView {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  /** True when [offset, offset+size) lies inside the buffer; written so the sum cannot overflow. */
  has(offset: number, size: number): boolean {
    return (
      Number.isInteger(offset) && Number.isInteger(size) && offset >= 0 && size >= 0 && size <= this.length - offset
    );
  }

  u8(offset: number): number | undefined {
    return this.has(offset, 1) ? this.view.getUint8(offset) : undefined;
  }

  u16(offset: number): number | undefined {
    return this.has(offset, 2) ? this.view.getUint16(offset, true) : undefined;
  }

  u32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.view.getUint32(offset, true) : undefined;
  }

  /** Unsigned 64-bit value as a bigint (image bases, PE32+ thunks). */
  u64(offset: number): bigint | undefined {
    return this.has(offset, 8) ? this.view.getBigUint64(offset, true) : undefined;
  }

  /** A sub-view sharing the same memory; undefined when it would leave the buffer. */
  slice(offset: number, size: number): Uint8Array | undefined {
    return this.has(offset, size) ? this.bytes.subarray(offset, offset + size) : undefined;
  }

  /** Bytes from offset up to at most `size`, clipped at the end of the buffer. */
  sliceClipped(offset: number, size: number): Uint8Array {
    if (!this.has(offset, 0)) return new Uint8Array(0);
    return this.bytes.subarray(offset, Math.min(this.length, offset + Math.max(0, size)));
  }

  /**
   * A NUL-terminated ASCII string of at most `maxLength` bytes. Returns undefined when
   * the offset is outside the buffer or no terminator appears within the limit.
   */
  cString(offset: number, maxLength = 512): string | undefined {
    if (!this.has(offset, 1)) return undefined;
    const end = Math.min(this.length, offset + maxLength);
    let text = '';
    for (let i = offset; i < end; i++) {
      const c = this.bytes[i] as number;
      if (c === 0) return text;
      text += printable(c);
    }
    return undefined;
  }

  /** A fixed-width, NUL-padded ASCII field (section names). */
  fixedString(offset: number, size: number): string | undefined {
    const raw = this.slice(offset, size);
    if (!raw) return undefined;
    let text = '';
    for (const c of raw) {
      if (c === 0) break;
      text += printable(c);
    }
    return text;
  }
}

/**
 * Strings from a file reach terminals and reports: anything but printable ASCII is
 * shown as \xNN, so a hostile name cannot inject newlines or escape sequences.
 */
function printable(c: number): string {
  return c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
}

export function hex(value: number | bigint, width = 0): string {
  return '0x' + value.toString(16).toUpperCase().padStart(width, '0');
}
