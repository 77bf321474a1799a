/**
 * The ARM64 counterpart of CodeReader (decoder.ts): decodes the A64 word at an RVA from the
 * image's section bytes, charging the image's budget per instruction. Plain TypeScript: no
 * WebAssembly to load or free, so it works in the page as it does in Node.
 */
import { type Budget, type BudgetLimits, DEFAULT_LIMITS } from '../budget.js';
import type { CodeBytes, CodeWindows, FlowInsn, Insn, InstructionReader } from '../decoder.js';
import { decodeA64, flowOfA64 } from './decode.js';

export class Arm64Reader implements InstructionReader {
  private window: { rva: number; view: DataView; length: number } | undefined;

  constructor(
    private readonly code: CodeWindows,
    private readonly imageBase: bigint,
    private readonly budget?: Budget,
  ) {}

  get limits(): BudgetLimits {
    return this.budget?.limits ?? DEFAULT_LIMITS;
  }

  decodeAt(rva: number): Insn | undefined {
    const word = this.wordAt(rva);
    if (word === undefined) return undefined;
    this.budget?.chargeInstructions();
    return decodeA64(word, rva, this.imageBase).insn;
  }

  flowAt(rva: number): FlowInsn | undefined {
    const word = this.wordAt(rva);
    if (word === undefined) return undefined;
    this.budget?.chargeInstructions();
    const { flow, target } = flowOfA64(word, rva);
    return target === undefined ? { rva, length: 4, flow } : { rva, length: 4, flow, target };
  }

  dispose(): void {
    this.window = undefined;
  }

  /** The little-endian word at `rva`; undefined when unaligned or outside the code windows. */
  private wordAt(rva: number): number | undefined {
    if ((rva & 3) !== 0) return undefined;
    let w = this.window;
    if (!w || rva < w.rva || rva + 4 > w.rva + w.length) {
      const next = this.code.windowAt(rva);
      if (!next || rva < next.rva || rva + 4 > next.rva + next.bytes.length) return undefined;
      const b = next.bytes;
      w = { rva: next.rva, view: new DataView(b.buffer, b.byteOffset, b.byteLength), length: b.length };
      this.window = w;
    }
    return w.view.getUint32(rva - w.rva, true);
  }
}

/** Objdump-style text of the ARM64 instruction at `rva`, addresses as VAs; undefined when the bytes are missing. */
export function formatArm64(code: CodeBytes, imageBase: bigint, rva: number): string | undefined {
  const bytes = code.bytesAt(rva, 4);
  if (!bytes || bytes.length < 4) return undefined;
  const word = ((bytes[0] as number) | ((bytes[1] as number) << 8) | ((bytes[2] as number) << 16) | ((bytes[3] as number) << 24)) >>> 0;
  return decodeA64(word, rva, imageBase, true).text;
}
