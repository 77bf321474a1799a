/**
 * The calling conventions the data flow knows: where argument n is at a call, and which
 * registers a call clobbers (x64: rcx, rdx, r8, r9 then the stack; x86 stdcall/cdecl: the stack).
 */
import { SP } from './decoder.js';
import type { Location } from './value-algebra.js';

/** Register families an x64 call clobbers (rax, rcx, rdx, r8–r11). */
export const VOLATILE_64 = new Set([0, 1, 2, 8, 9, 10, 11]);

/** Register families an x86 call clobbers (eax, ecx, edx). */
export const VOLATILE_32 = new Set([0, 1, 2]);

export const X64_PARAM_REGS = [1, 2, 8, 9]; // rcx, rdx, r8, r9

/** Where argument `n` (1-based) is at a call: x64 rcx, rdx, r8, r9, then [rsp+0x20+8*(n-5)]; x86 [esp+offset]. */
export function argumentLocation(bitness: 32 | 64, n: number, x86Offset?: number, size = 4): Location {
  if (bitness === 64) {
    if (n <= 4) return { k: 'reg', fam: X64_PARAM_REGS[n - 1] as number };
    return { k: 'mem', base: SP, off: 0x20 + 8 * (n - 5), size: Math.min(size, 8) };
  }
  return { k: 'mem', base: SP, off: x86Offset ?? 4 * (n - 1), size: Math.min(size, 4) };
}
