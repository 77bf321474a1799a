/**
 * ARM64 builds addresses in two instructions: `adrp x8, page` then `ldr x0, [x8, #off]`,
 * `str w1, [x8, #off]` or `add x0, x8, #off`. This pass gives the second instruction the
 * address it names (a memory operand with `target`, as x64's RIP-relative operands have), so
 * the import-slot, global and code-address logic shared with x64 reads it unchanged. The adrp
 * is recorded on the folded instruction (`pageRva`) for evidence.
 *
 * Forward over the function's instructions, the page each register holds is known only along
 * straight code: it is forgotten at a join (a block with a predecessor other than the
 * previous instruction), when the register is written, and at calls for the volatile registers.
 */
import { type Insn, type MemoryOperand, registerFamily } from '../decoder.js';
import { VOLATILE_ARM64 } from '../calling-convention.js';

/** Instructions whose first operand is only read (the rest write their first register operand). */
const READS_FIRST = new Set(['cmp', 'cmn', 'test', 'cbz', 'cbnz', 'tbz', 'tbnz', 'call', 'jmp', 'msr']);

function folded(mem: MemoryOperand, page: number): MemoryOperand {
  return { kind: 'mem', scale: 1, disp: 0, size: mem.size, target: (page + mem.disp) >>> 0 };
}

/** Rewrites in place; `joins` holds the indexes of instructions other code may jump to. */
export function foldPageAddresses(insns: Insn[], joins: (index: number) => boolean): void {
  const pages = new Map<number, { page: number; rva: number }>();
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as Insn;
    const prev = insns[i - 1];
    if (i > 0 && (joins(i) || !prev || prev.rva + 4 !== insn.rva)) pages.clear();
    if (pages.size > 0) fold(insns, i, pages);
    const after = insns[i] as Insn;
    // What this instruction does to the tracked registers.
    if (after.flow === 'call' || after.flow === 'call-indirect') {
      for (const fam of VOLATILE_ARM64) pages.delete(fam);
      continue;
    }
    const ops = after.operands;
    if (after.writeback !== undefined) {
      const base = ops.find((o) => o.kind === 'mem');
      if (base?.kind === 'mem' && base.base !== undefined) pages.delete(registerFamily(base.base));
    }
    const dst = ops[0];
    if (after.mnemonic === 'ldp') {
      for (const o of ops.slice(0, 2)) if (o.kind === 'reg') pages.delete(registerFamily(o.reg));
    }
    if (dst?.kind !== 'reg' || READS_FIRST.has(after.mnemonic)) continue;
    const fam = registerFamily(dst.reg);
    const src = ops[1];
    if (after.mnemonic === 'lea' && src?.kind === 'mem' && src.target !== undefined && src.base === undefined && (src.target & 0xfff) === 0 && dst.reg.startsWith('x') && isPageLoad(after)) {
      pages.set(fam, { page: src.target, rva: after.rva });
    } else pages.delete(fam);
  }
}

function isPageLoad(insn: Insn): boolean {
  return insn.pageAddress === true;
}

function fold(insns: Insn[], i: number, pages: Map<number, { page: number; rva: number }>): void {
  const insn = insns[i] as Insn;
  const k = insn.operands.findIndex((o) => o.kind === 'mem');
  const mem = insn.operands[k];
  if (mem?.kind !== 'mem' || mem.base === undefined || mem.index !== undefined || insn.writeback !== undefined) return;
  const known = pages.get(registerFamily(mem.base));
  if (!known || mem.disp < 0) return;
  const operands = insn.operands.slice();
  operands[k] = folded(mem, known.page);
  insns[i] = { ...insn, operands, pageRva: known.rva };
}
