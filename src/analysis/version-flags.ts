/**
 * Flags and condition codes for the version tests the data flow follows: which NTDDI constant a
 * comparison names, and whether a condition code holds after `test` or `cmp` on known values.
 */
import { type Insn, type Operand, registerSize } from './decoder.js';
import { sizeMask } from './value-algebra.js';

/** NTDDI_WIN10: Memory Integrity exists from Windows 10 on (rule book: Windows 10, 11, Server 2016+). */
export const NTDDI_WIN10 = 0x0a000000;

/**
 * A comparison constant that is an NTDDI version (0xMMmmSSSS: Windows 2000 … Windows 10 and its
 * releases), as written or one less (compilers turn `x >= v` into `x > v - 1`).
 */
export function ntddiConstant(imm: bigint): number | undefined {
  for (const v of [imm & 0xffffffffn, (imm + 1n) & 0xffffffffn]) {
    const n = Number(v);
    const major = n >>> 24;
    const minor = (n >>> 16) & 0xff;
    const sub = n & 0xffff;
    if (((major === 5 && minor <= 2) || (major === 6 && minor <= 3) || (major === 10 && minor === 0)) && sub <= 0x20) return n;
  }
  return undefined;
}

export interface Flags {
  zf: boolean;
  cf: boolean;
  sf: boolean;
  of: boolean;
}

/** Flags of `test x, x` for a small positive x. */
export function flagsOfTest(x: bigint): Flags {
  return { zf: x === 0n, cf: false, sf: false, of: false };
}

/** Flags of `cmp x, k` for small non-negative x and k. */
export function flagsOfCmp(x: bigint, k: bigint): Flags {
  const d = x - k;
  return { zf: d === 0n, cf: x < k, sf: d < 0n, of: false };
}

/** Whether condition code `cc` (e, ne, b, ae, …) holds for `f`; undefined for an unknown code. */
export function conditionHolds(cc: string, f: Flags): boolean | undefined {
  switch (cc) {
    case 'e': case 'z': return f.zf;
    case 'ne': case 'nz': return !f.zf;
    case 'b': case 'c': case 'nae': return f.cf;
    case 'ae': case 'nb': case 'nc': return !f.cf;
    case 'a': case 'nbe': return !f.cf && !f.zf;
    case 'be': case 'na': return f.cf || f.zf;
    case 's': return f.sf;
    case 'ns': return !f.sf;
    case 'l': case 'nge': return f.sf !== f.of;
    case 'ge': case 'nl': return f.sf === f.of;
    case 'g': case 'nle': return !f.zf && f.sf === f.of;
    case 'le': case 'ng': return f.zf || f.sf !== f.of;
    default: return undefined;
  }
}

/** `test x, x` (x == 0 when equal) or `cmp x, k` (x == k): the operand and the constant. */
export function equalityTested(insn: Insn): { op: Operand; value: bigint } | undefined {
  const [a, b] = insn.operands;
  if (!a || !b) return undefined;
  if (insn.mnemonic === 'test' && a.kind === 'reg' && b.kind === 'reg' && a.reg === b.reg) return { op: a, value: 0n };
  if (insn.mnemonic === 'cmp' && b.kind === 'imm' && (a.kind === 'reg' || a.kind === 'mem')) {
    const size = a.kind === 'reg' ? registerSize(a.reg) : a.size || 8;
    return { op: a, value: b.value & sizeMask(size) };
  }
  return undefined;
}

/** Instructions that leave the flags alone (between a cmp/test and the instruction that reads them). */
export const KEEPS_FLAGS = new Set(['mov', 'movzx', 'movsx', 'movsxd', 'lea', 'push', 'pop', 'nop', 'xchg', 'not', 'bswap']);
