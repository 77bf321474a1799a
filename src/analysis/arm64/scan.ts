/**
 * Word scans of ARM64 code for the addresses instructions name, the counterpart of the x86
 * byte scans for rel32 and RIP-relative operands: direct branches (b, bl, b.cond, cbz, tbz),
 * literal loads and adr, and `adrp xN, page` followed within a few words by a load, store or
 * `add` off xN (page + offset). Candidates only: the code model decodes the function and
 * confirms (an adrp pair split by a branch is folded there only when it is one path).
 */

/** What names the address: a direct branch, a direct call (bl), or a load/store/add of an address. */
export type A64ReferenceKind = 'branch' | 'call' | 'address';

/** How far after an adrp its low-12-bit partner is looked for (compilers schedule them apart). */
const ADRP_WINDOW = 12;

function signExtend(value: number, bits: number): number {
  const shift = 32 - bits;
  return (value << shift) >> shift;
}

/** The unsigned 12-bit offset of an add #imm / ldr / str off register `rn`, or undefined. */
function lowOffset(w: number, rn: number): number | undefined {
  if (((w >>> 5) & 31) !== rn) return undefined;
  // add xd, xn, #imm (64-bit, no shift, no flags).
  if (((w & 0xffc00000) >>> 0) === 0x91000000) return (w >>> 10) & 0xfff;
  // Load/store register (unsigned offset), integer or vector: the offset is scaled by the size.
  if ((w & 0x3b000000) === 0x39000000) {
    const size = w >>> 30;
    const vector = (w & 0x04000000) !== 0;
    const scale = vector && ((w >>> 22) & 3) >= 2 ? 4 : size;
    return ((w >>> 10) & 0xfff) << scale;
  }
  return undefined;
}

/** Calls `visit(at, target, kind)` for every address the code in `sections` names. */
export function scanArm64References(
  sections: ReadonlyArray<{ rva: number; bytes: Uint8Array }>,
  visit: (at: number, target: number, kind: A64ReferenceKind) => void,
): void {
  for (const { rva, bytes } of sections) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const words = bytes.length >>> 2;
    for (let i = 0; i < words; i++) {
      const w = dv.getUint32(i * 4, true);
      const at = rva + i * 4;
      if ((w & 0x7c000000) === 0x14000000) {
        visit(at, (at + signExtend(w & 0x3ffffff, 26) * 4) >>> 0, w & 0x80000000 ? 'call' : 'branch');
      } else if (((w & 0xff000010) >>> 0) === 0x54000000 || (w & 0x7e000000) === 0x34000000) {
        visit(at, (at + signExtend((w >>> 5) & 0x7ffff, 19) * 4) >>> 0, 'branch');
      } else if ((w & 0x7e000000) === 0x36000000) {
        visit(at, (at + signExtend((w >>> 5) & 0x3fff, 14) * 4) >>> 0, 'branch');
      } else if (((w & 0xbb000000) >>> 0) === 0x18000000) {
        visit(at, (at + signExtend((w >>> 5) & 0x7ffff, 19) * 4) >>> 0, 'address');
      } else if ((w & 0x1f000000) === 0x10000000) {
        const lo = (w >>> 29) & 3;
        const hi = signExtend((w >>> 5) & 0x7ffff, 19);
        if (((w & 0x80000000) >>> 0) === 0) {
          visit(at, (at + hi * 4 + lo) >>> 0, 'address');
          continue;
        }
        const page = (at & ~0xfff) + (hi * 4 + lo) * 4096;
        const rd = w & 31;
        for (let j = i + 1; j < words && j <= i + ADRP_WINDOW; j++) {
          const next = dv.getUint32(j * 4, true);
          const off = lowOffset(next, rd);
          if (off !== undefined) visit(rva + j * 4, (page + off) >>> 0, 'address');
          // Another adrp into the same register ends this one's reach.
          if (((next & 0x9f00001f) >>> 0) === (0x90000000 | rd)) break;
        }
      }
    }
  }
}
