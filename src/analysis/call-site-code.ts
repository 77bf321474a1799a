/**
 * The code around a call site with every address, displacement and branch target blanked,
 * for finding fingerprints (src/report/fingerprint.ts hashes it). Decoding is analysis, so it
 * is done here, while the image is analysed; the report layer gets only the text.
 */
import { CodeModel, codeModelOf } from './code-model.js';
import type { Insn, Operand } from './decoder.js';
import type { PeImage } from '../pe/index.js';

/** How many instructions before the call are part of the call-site hash. */
const WINDOW = 6;

/** The normalised code around a call at an RVA of one image (what fingerprints take). */
export function codeAroundIn(image: PeImage): (callRva: number) => string | undefined {
  return (callRva) => normalisedCodeAround(image, callRva);
}

/**
 * The call instruction and up to WINDOW instructions before it in the same function, as
 * text with addresses blanked: "mov ecx,0x0 | call [IMPORT ExAllocatePoolWithTag]".
 * Undefined when the image has no decodable code at that RVA.
 */
export function normalisedCodeAround(image: PeImage, callRva: number): string | undefined {
  const m = codeModelOf(image);
  if (!(m instanceof CodeModel)) return undefined;
  const fn = m.functions.containing(callRva);
  if (!fn) return undefined;
  const code = m.code(fn);
  const index = code.indexOf.get(callRva);
  if (index === undefined) return undefined;
  const base = image.optionalHeader.imageBase;
  const ctx: NormaliseContext = {
    slots: m.importSlots,
    // An immediate inside the mapped image is an absolute address (x86), which moves.
    isAddress: (v) => v >= base && v < base + BigInt(image.optionalHeader.sizeOfImage),
  };
  const insns = code.insns.slice(Math.max(0, index - WINDOW), index + 1);
  return insns.map((insn) => normaliseInsn(insn, ctx)).join(' | ');
}

interface NormaliseContext {
  slots: ReadonlyMap<number, { name: string }>;
  isAddress(value: bigint): boolean;
}

function normaliseInsn(insn: Insn, ctx: NormaliseContext): string {
  return `${insn.mnemonic} ${insn.operands.map((op) => normaliseOperand(op, ctx)).join(',')}`;
}

const FRAME_REGISTERS = new Set(['rsp', 'esp', 'rbp', 'ebp']);

function normaliseOperand(op: Operand, ctx: NormaliseContext): string {
  switch (op.kind) {
    case 'reg':
      return op.reg;
    case 'imm':
      // Constants (pool types, protections, tags, sizes) are what the code means.
      return ctx.isAddress(op.value) ? 'ADDR' : `0x${op.value.toString(16)}`;
    case 'branch':
      return 'BRANCH';
    case 'mem': {
      if (op.target !== undefined) {
        const slot = ctx.slots.get(op.target);
        return slot ? `[IMPORT ${slot.name}]` : '[ADDR]';
      }
      const disp = op.base !== undefined && FRAME_REGISTERS.has(op.base) ? `+0x${op.disp.toString(16)}` : '+DISP';
      return `[${op.base ?? ''}${op.index ? `+${op.index}*${op.scale}` : ''}${disp}]`;
    }
    default:
      return '?';
  }
}
