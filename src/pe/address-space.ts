import { ByteView } from './bytes.js';
import { DirectoryIndex } from './constants.js';
import type { DataDirectory } from './headers.js';
import type { IssueLog } from './issues.js';
import { containsRva, type Section, virtualExtent } from './sections.js';

/**
 * Maps RVAs to file bytes the way the loader lays the image out: headers at RVA 0,
 * each section's raw data at its VirtualAddress, zero fill after the raw data up to
 * the section's virtual extent.
 */
export class AddressSpace {
  constructor(
    readonly view: ByteView,
    readonly sections: readonly Section[],
    readonly sizeOfHeaders: number,
    readonly is64: boolean,
    readonly imageBase: bigint,
    readonly log: IssueLog,
    private readonly directories: readonly DataDirectory[],
  ) {}

  get pointerSize(): 4 | 8 {
    return this.is64 ? 8 : 4;
  }

  /**
   * A directory entry, or undefined when absent or empty. The loader reads the import
   * table from its RVA alone (Size may be 0, as hand-made images show), so for that one
   * directory a zero size still counts as present.
   */
  directory(index: number): DataDirectory | undefined {
    const d = this.directories[index];
    if (!d || d.virtualAddress === 0) return undefined;
    return d.size !== 0 || index === DirectoryIndex.import ? d : undefined;
  }

  /** The first section whose mapped extent (VirtualSize, or SizeOfRawData when 0) contains `rva`. */
  sectionAt(rva: number): Section | undefined {
    return this.sections.find((s) => containsRva(s, rva));
  }

  /**
   * File offset of [rva, rva+size), or undefined when that range is not wholly backed by
   * file bytes of one section (or of the headers). Containment uses min(VirtualSize,
   * SizeOfRawData): bytes past either are not in the file as mapped.
   */
  offsetOf(rva: number, size = 1): number | undefined {
    const s = this.sectionAt(rva);
    if (!s) {
      if (rva >= 0 && rva + size <= Math.min(this.sizeOfHeaders, this.view.length)) return rva;
      return undefined;
    }
    const delta = rva - s.virtualAddress;
    const backed = Math.min(s.sizeOfRawData, virtualExtent(s));
    if (delta + size > backed) return undefined;
    const offset = s.pointerToRawData + delta;
    return this.view.has(offset, size) ? offset : undefined;
  }

  /** True when the RVA is mapped (file-backed or zero-filled). */
  isMapped(rva: number): boolean {
    return this.sectionAt(rva) !== undefined || (rva >= 0 && rva < this.sizeOfHeaders);
  }

  /** A 32-bit value at an RVA: file bytes, 0 in a section's zero fill, undefined when unmapped. */
  u32(rva: number): number | undefined {
    const off = this.offsetOf(rva, 4);
    if (off !== undefined) return this.view.u32(off);
    return this.isMapped(rva) && this.isMapped(rva + 3) ? 0 : undefined;
  }

  u16(rva: number): number | undefined {
    const off = this.offsetOf(rva, 2);
    if (off !== undefined) return this.view.u16(off);
    return this.isMapped(rva) && this.isMapped(rva + 1) ? 0 : undefined;
  }

  u64(rva: number): bigint | undefined {
    const off = this.offsetOf(rva, 8);
    if (off !== undefined) return this.view.u64(off);
    return this.isMapped(rva) && this.isMapped(rva + 7) ? 0n : undefined;
  }

  /** Pointer-sized value (thunks). */
  pointer(rva: number): bigint | undefined {
    return this.is64 ? this.u64(rva) : this.u32(rva) === undefined ? undefined : BigInt(this.u32(rva) as number);
  }

  cString(rva: number, maxLength = 512): string | undefined {
    const off = this.offsetOf(rva, 1);
    return off === undefined ? undefined : this.view.cString(off, maxLength);
  }

  /** File bytes of a mapped range, clipped to what the file holds (zero-copy). */
  bytesAt(rva: number, size: number): Uint8Array | undefined {
    const s = this.sectionAt(rva);
    if (!s) return undefined;
    const delta = rva - s.virtualAddress;
    const backed = Math.min(s.sizeOfRawData, virtualExtent(s));
    if (delta >= backed) return new Uint8Array(0);
    return this.view.sliceClipped(s.pointerToRawData + delta, Math.min(size, backed - delta));
  }
}
