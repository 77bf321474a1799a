/**
 * The calling conventions the data flow knows: where argument n is at a call, which
 * registers a call clobbers and where the return value is (x64: rcx, rdx, r8, r9 then the
 * stack above 32 bytes of home space; x86 stdcall/cdecl: the stack; ARM64: x0–x7 then the
 * stack from [sp]).
 */
import { ARM64_X0, SP } from './decoder.js';
import type { Location } from './value-algebra.js';

/** The instruction sets the code model reads. */
export type CodeArch = 'x86' | 'x64' | 'arm64';

/** Register families an x64 call clobbers (rax, rcx, rdx, r8–r11). */
export const VOLATILE_64 = new Set([0, 1, 2, 8, 9, 10, 11]);

/** Register families an x86 call clobbers (eax, ecx, edx). */
export const VOLATILE_32 = new Set([0, 1, 2]);

/** Register families an ARM64 call clobbers: x0–x17 (x16/x17 are the linker's scratch registers) and the link register x30. */
export const VOLATILE_ARM64 = new Set([...Array.from({ length: 18 }, (_, i) => ARM64_X0 + i), ARM64_X0 + 30]);

export const X64_PARAM_REGS = [1, 2, 8, 9]; // rcx, rdx, r8, r9

/** ARM64 x0–x7. */
export const ARM64_PARAM_REGS = Array.from({ length: 8 }, (_, i) => ARM64_X0 + i);

/** Register family of a call's return value: rax/eax, ARM64 x0. */
export function returnFamily(arch: CodeArch): number {
  return arch === 'arm64' ? ARM64_X0 : 0;
}

export function volatileFamilies(arch: CodeArch): ReadonlySet<number> {
  return arch === 'arm64' ? VOLATILE_ARM64 : arch === 'x64' ? VOLATILE_64 : VOLATILE_32;
}

/**
 * Where argument `n` (1-based) is at a call: x64 rcx, rdx, r8, r9, then [rsp+0x20+8*(n-5)];
 * ARM64 x0–x7, then [sp+8*(n-9)]; x86 [esp+offset].
 */
export function argumentLocation(arch: CodeArch, n: number, x86Offset?: number, size = 4): Location {
  if (arch === 'x64') {
    if (n <= 4) return { k: 'reg', fam: X64_PARAM_REGS[n - 1] as number };
    return { k: 'mem', base: SP, off: 0x20 + 8 * (n - 5), size: Math.min(size, 8) };
  }
  if (arch === 'arm64') {
    if (n <= 8) return { k: 'reg', fam: ARM64_PARAM_REGS[n - 1] as number };
    return { k: 'mem', base: SP, off: 8 * (n - 9), size: Math.min(size, 8) };
  }
  return { k: 'mem', base: SP, off: x86Offset ?? 4 * (n - 1), size: Math.min(size, 4) };
}

/** The parameter (1-based) a location holds at function entry, if any. */
export function parameterAtEntry(arch: CodeArch, loc: Location): number | undefined {
  if (arch === 'x64') {
    if (loc.k === 'reg') {
      const i = X64_PARAM_REGS.indexOf(loc.fam);
      return i >= 0 ? i + 1 : undefined;
    }
    return loc.base === SP && loc.off >= 0x28 && (loc.off - 0x28) % 8 === 0 ? 5 + (loc.off - 0x28) / 8 : undefined;
  }
  if (arch === 'arm64') {
    if (loc.k === 'reg') {
      const i = ARM64_PARAM_REGS.indexOf(loc.fam);
      return i >= 0 ? i + 1 : undefined;
    }
    // No return address on the stack: the first stack argument is at [sp] on entry.
    return loc.base === SP && loc.off >= 0 && loc.off % 8 === 0 ? 9 + loc.off / 8 : undefined;
  }
  return loc.k === 'mem' && loc.base === SP && loc.off >= 4 && loc.off % 4 === 0 ? loc.off / 4 : undefined;
}
