/**
 * Writes to CR0 (rule book §8 cr0-write): `mov cr0, reg` is 0F 22 /r with ModRM C0..C7
 * (reg field 0 = CR0), optionally after a REX prefix (41 for r8..r15; REX.R would make
 * it CR8, the IRQL register, which is not this rule). Byte-scan for candidates, then
 * confirm each with the decoder inside the function that contains it.
 */
import type { CodeModel } from './code-model.js';
import { functionName } from './functions.js';

export interface Cr0Write {
  rva: number;
  fileOffset?: number;
  function: string;
  functionRva: number;
  /** "mov cr0, rax" */
  text: string;
  /** The instructions just before it (mov rax, cr0; and rax, ...), in order. */
  context: Array<{ rva: number; text: string }>;
  /** The code clears CR0.WP (bit 16) just before: `and r, ~0x10000` or `btr r, 16`. */
  clearsWriteProtect: boolean;
}

export function findCr0Writes(model: CodeModel): Cr0Write[] {
  const out: Cr0Write[] = [];
  const seen = new Set<number>();
  for (const { rva, bytes } of model.codeSections()) {
    for (let i = 0; i + 2 < bytes.length; i++) {
      if (bytes[i] !== 0x0f || bytes[i + 1] !== 0x22) continue;
      const modrm = bytes[i + 2] as number;
      if (modrm < 0xc0 || modrm > 0xc7) continue;
      const prev = i > 0 ? (bytes[i - 1] as number) : -1;
      const start = model.bitness === 64 && prev >= 0x40 && prev <= 0x4f ? rva + i - 1 : rva + i;
      const fn = model.functions.containing(start);
      if (!fn || seen.has(start)) continue;
      const code = model.code(fn);
      const index = code.indexOf.get(start);
      const insn = index === undefined ? undefined : code.insns[index];
      const dst = insn?.operands[0];
      if (!insn || insn.mnemonic !== 'mov' || dst?.kind !== 'reg' || dst.reg !== 'cr0') continue;
      seen.add(start);
      const before = code.insns.slice(Math.max(0, (index as number) - 6), index);
      const w: Cr0Write = {
        rva: start,
        function: functionName(fn),
        functionRva: fn.start,
        text: model.format(start),
        context: before.map((b) => ({ rva: b.rva, text: model.format(b.rva) })),
        clearsWriteProtect: before.some((b) => {
          const imm = b.operands[1];
          if (imm?.kind !== 'imm') return false;
          if (b.mnemonic === 'and') return (imm.value & 0x10000n) === 0n;
          return b.mnemonic === 'btr' && imm.value === 16n;
        }),
      };
      const off = model.fileOffset(start);
      if (off !== undefined) w.fileOffset = off;
      out.push(w);
    }
  }
  return out;
}
