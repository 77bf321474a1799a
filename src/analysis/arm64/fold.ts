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
import { type Insn, type MemoryOperand, registerFamily, SP } from '../decoder.js';
import { VOLATILE_ARM64 } from '../calling-convention.js';

/** Instructions whose first operand is only read (the rest write their first register operand). */
const READS_FIRST = new Set(['cmp', 'cmn', 'test', 'cbz', 'cbnz', 'tbz', 'tbnz', 'call', 'jmp', 'msr']);

function folded(mem: MemoryOperand, page: number): MemoryOperand {
  return { kind: 'mem', scale: 1, disp: 0, size: mem.size, target: (page + mem.disp) >>> 0 };
}

/**
 * Rewrites in place; `joins` holds the indexes of instructions other code may jump to. The
 * same pass turns a base register that holds a copy of sp (`mov x9, sp`, `add x9, sp, #k`:
 * -O0 code stores outgoing stack arguments through it) into sp, so stack slots are one location.
 */
export function foldPageAddresses(insns: Insn[], joins: (index: number) => boolean): void {
  const pages = new Map<number, { page: number; rva: number }>();
  const stackCopies = new Map<number, number>();
  const forget = (fam: number): void => {
    pages.delete(fam);
    stackCopies.delete(fam);
    if (fam === SP) stackCopies.clear();
  };
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as Insn;
    const prev = insns[i - 1];
    if (i > 0 && (joins(i) || !prev || prev.rva + 4 !== insn.rva)) {
      pages.clear();
      stackCopies.clear();
    }
    if (pages.size > 0) fold(insns, i, pages);
    if (stackCopies.size > 0) rebase(insns, i, stackCopies);
    const after = insns[i] as Insn;
    // What this instruction does to the tracked registers.
    if (after.flow === 'call' || after.flow === 'call-indirect') {
      for (const fam of VOLATILE_ARM64) {
        pages.delete(fam);
        stackCopies.delete(fam);
      }
      continue;
    }
    const ops = after.operands;
    if (after.writeback !== undefined) {
      const base = ops.find((o) => o.kind === 'mem');
      if (base?.kind === 'mem' && base.base !== undefined) forget(registerFamily(base.base));
    }
    const dst = ops[0];
    if (after.mnemonic === 'ldp') {
      for (const o of ops.slice(0, 2)) if (o.kind === 'reg') forget(registerFamily(o.reg));
    }
    if (dst?.kind !== 'reg' || READS_FIRST.has(after.mnemonic)) continue;
    const fam = registerFamily(dst.reg);
    const src = ops[1];
    forget(fam);
    if (after.mnemonic !== 'lea' || src?.kind !== 'mem' || !dst.reg.startsWith('x')) continue;
    // adrp: a page; adr or a folded add: an exact address. Either is a base the next access adds to.
    if (src.target !== undefined && src.base === undefined) pages.set(fam, { page: src.target, rva: after.pageRva ?? after.rva });
    else if (src.base !== undefined && registerFamily(src.base) === SP && src.index === undefined && fam !== SP) stackCopies.set(fam, src.disp);
  }
}

/** A memory operand based on a register that holds sp + k, as [sp + k + disp]. */
function rebase(insns: Insn[], i: number, stackCopies: Map<number, number>): void {
  const insn = insns[i] as Insn;
  const k = insn.operands.findIndex((o) => o.kind === 'mem');
  const mem = insn.operands[k];
  if (mem?.kind !== 'mem' || mem.base === undefined || mem.index !== undefined || insn.writeback !== undefined) return;
  const offset = stackCopies.get(registerFamily(mem.base));
  if (offset === undefined) return;
  const operands = insn.operands.slice();
  operands[k] = { ...mem, base: 'sp', disp: mem.disp + offset };
  insns[i] = { ...insn, operands };
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
