/**
 * The decoded view of one image that every call-site rule shares: decoder, functions,
 * import slots and per-function instruction lists with their control-flow edges. Built
 * lazily and cached per PeImage (`codeModelOf`), so the rules decode each function once.
 */
import { isExecutable, type PeImage } from '../pe/index.js';
import { Budget, type BudgetLimits, DEFAULT_LIMITS } from './budget.js';
import { type Bitness, CodeReader, formatInstruction, type Insn, type InstructionReader } from './decoder.js';
import {
  branchTarget,
  type CodeFunction,
  discoverArm64Functions,
  discoverX64Functions,
  discoverByDescent,
  fallsThrough,
  FunctionIndex,
} from './functions.js';
import { Arm64Reader, formatArm64 } from './arm64/reader.js';
import { foldPageAddresses } from './arm64/fold.js';
import type { CodeArch } from './calling-convention.js';

export const MACHINE_I386 = 0x014c;
export const MACHINE_AMD64 = 0x8664;
export const MACHINE_ARM64 = 0xaa64;

/** The instruction set of a machine type, when the code model reads it. */
export function codeArchOf(machine: number): CodeArch | undefined {
  return machine === MACHINE_AMD64 ? 'x64' : machine === MACHINE_I386 ? 'x86' : machine === MACHINE_ARM64 ? 'arm64' : undefined;
}

export interface ImportSlot {
  dll: string;
  /** Function name, or `#<ordinal>`. */
  name: string;
  delayLoaded: boolean;
  /** RVA of the IAT slot. */
  rva: number;
}

/** A function's instructions in address order, with block structure for backward walks. */
export interface FunctionCode {
  fn: CodeFunction;
  insns: Insn[];
  /** Index of the instruction at an RVA. */
  indexOf: Map<number, number>;
  /** For each instruction index that starts a block: indexes of the instructions that flow into it. */
  preds: Map<number, number[]>;
}

export type Unsupported = { supported: false; reason: string };

export class CodeModel {
  readonly bitness: Bitness;
  readonly arch: CodeArch;
  readonly imageBase: bigint;
  readonly reader: InstructionReader;
  private functionIndex: FunctionIndex | undefined;
  private readonly codeCache = new Map<number, FunctionCode>();
  private cachedInstructions = 0;
  private decodedFunctions = 0;
  private slotMap: Map<number, ImportSlot> | undefined;
  private guardCheck: number | undefined | null = null;

  constructor(
    readonly image: PeImage,
    /** Work limits for this image, shared by every rule (see budget.ts). */
    readonly budget: Budget = new Budget(),
  ) {
    this.arch = codeArchOf(image.machine) ?? 'x86';
    this.bitness = this.arch === 'x86' ? 32 : 64;
    this.imageBase = image.optionalHeader.imageBase;
    const windows = { windowAt: (rva: number) => this.sectionBytes(rva) };
    this.reader =
      this.arch === 'arm64' ? new Arm64Reader(windows, this.imageBase, budget) : new CodeReader(windows, this.bitness, this.imageBase, budget);
  }

  get pointerSize(): 4 | 8 {
    return this.bitness === 64 ? 8 : 4;
  }

  get functions(): FunctionIndex {
    if (!this.functionIndex) {
      this.functionIndex =
        this.arch === 'arm64'
          ? discoverArm64Functions(this.image, this.reader)
          : this.arch === 'x64'
            ? discoverX64Functions(this.image, this.reader)
            : discoverByDescent(this.image, this.reader);
    }
    return this.functionIndex;
  }

  /** Why function discovery stopped early, if it ran and did (read after the rules; never starts discovery). */
  get discoveryTruncated(): string | undefined {
    return this.functionIndex?.truncated;
  }

  /** IAT slots of all imports, normal and delay-loaded, by slot RVA. */
  get importSlots(): Map<number, ImportSlot> {
    if (!this.slotMap) {
      const map = new Map<number, ImportSlot>();
      for (const m of this.image.allImports) {
        for (const f of m.functions) {
          const name = f.name ?? `#${f.ordinal ?? '?'}`;
          map.set(f.iatRva, { dll: m.dll, name, delayLoaded: m.delayLoaded, rva: f.iatRva });
        }
      }
      this.slotMap = map;
    }
    return this.slotMap;
  }

  /** Executable sections' file bytes with their RVAs (what byte scans walk). */
  codeSections(): Array<{ rva: number; bytes: Uint8Array }> {
    const out: Array<{ rva: number; bytes: Uint8Array }> = [];
    for (const s of this.image.sections) {
      if (!isExecutable(s)) continue;
      const bytes = this.image.space.bytesAt(s.virtualAddress, s.virtualSize || s.sizeOfRawData);
      if (bytes && bytes.length > 0) out.push({ rva: s.virtualAddress, bytes });
    }
    return out;
  }

  /** File bytes of the whole section holding `rva`. */
  private sectionBytes(rva: number): { rva: number; bytes: Uint8Array } | undefined {
    const s = this.image.space.sectionAt(rva);
    if (!s) return undefined;
    const bytes = this.image.space.bytesAt(s.virtualAddress, s.virtualSize || s.sizeOfRawData);
    return bytes ? { rva: s.virtualAddress, bytes } : undefined;
  }

  /**
   * Decoded instructions of a function, cached. Decoded code takes tens of bytes per code
   * byte, so the cache is bounded: past the limit it is emptied (later requests decode
   * again, charged to the budget) rather than growing with the image.
   */
  code(fn: CodeFunction): FunctionCode {
    let code = this.codeCache.get(fn.start);
    if (!code) {
      code = buildFunctionCode(fn, fn.instructionRvas ? this.decodeList(fn.instructionRvas) : this.decodeRanges(fn), this.arch);
      if (this.cachedInstructions + code.insns.length > this.budget.limits.cachedInstructions) {
        this.codeCache.clear();
        this.cachedInstructions = 0;
      }
      this.codeCache.set(fn.start, code);
      this.cachedInstructions += code.insns.length;
      this.decodedFunctions++;
    }
    return code;
  }

  /** Number of functions decoded so far (for benchmarks). */
  get decodedFunctionCount(): number {
    return this.decodedFunctions;
  }

  format(rva: number): string {
    const text =
      this.arch === 'arm64' ? formatArm64(this.image.space, this.imageBase, rva) : formatInstruction(this.image.space, this.bitness, this.imageBase, rva);
    return text ?? '(unreadable)';
  }

  /** RVA of the CFG check function pointer (load config GuardCFCheckFunctionPointer), if any. */
  get guardCheckRva(): number | undefined {
    if (this.guardCheck === null) {
      const va = this.image.loadConfig?.guardCheckFunctionPointer;
      const rva = va !== undefined && va > this.imageBase ? va - this.imageBase : undefined;
      this.guardCheck = rva !== undefined && rva < BigInt(this.image.optionalHeader.sizeOfImage) ? Number(rva) : undefined;
    }
    return this.guardCheck;
  }

  /**
   * The first instruction of a value's trace that is not an ARM64 adrp: the load or address
   * the value comes from (on ARM64 the trace names the adrp of its page first).
   */
  firstLoad(trace: readonly number[]): number | undefined {
    if (this.arch !== 'arm64') return trace[0];
    return trace.find((rva) => ((this.image.space.u32(rva) ?? 0) & 0x9f000000) >>> 0 !== 0x90000000);
  }

  fileOffset(rva: number): number | undefined {
    return this.image.space.offsetOf(rva);
  }

  private decodeList(rvas: readonly number[]): Insn[] {
    const out: Insn[] = [];
    for (const rva of rvas) {
      const insn = this.reader.decodeAt(rva);
      if (insn) out.push(insn);
    }
    return out;
  }

  /** x64 functions are .pdata ranges, which hold only code: decode them linearly. */
  private decodeRanges(fn: CodeFunction): Insn[] {
    const out: Insn[] = [];
    for (const r of fn.ranges) {
      let rva = r.begin;
      while (rva < r.end) {
        const insn = this.reader.decodeAt(rva);
        if (!insn) break;
        out.push(insn);
        rva += insn.length;
      }
    }
    return out;
  }
}

function buildFunctionCode(fn: CodeFunction, insns: Insn[], arch: CodeArch): FunctionCode {
  const indexOf = new Map<number, number>();
  insns.forEach((insn, i) => indexOf.set(insn.rva, i));
  const preds = new Map<number, number[]>();
  const addPred = (to: number, from: number) => {
    const list = preds.get(to);
    if (list) list.push(from);
    else preds.set(to, [from]);
  };
  // Every branch target and every instruction after a branch starts a block.
  insns.forEach((insn, i) => {
    const target = branchTarget(insn);
    if (target !== undefined && (insn.flow === 'jcc' || insn.flow === 'jmp')) {
      const t = indexOf.get(target);
      if (t !== undefined) addPred(t, i);
    }
  });
  insns.forEach((insn, i) => {
    const next = insns[i + 1];
    if (!next) return;
    const contiguous = insn.rva + insn.length === next.rva;
    const branches = insn.flow === 'jcc' || insn.flow === 'jmp';
    if (preds.has(i + 1) || branches || !fallsThrough(insn) || !contiguous) {
      if (!preds.has(i + 1)) preds.set(i + 1, []);
      if (contiguous && fallsThrough(insn)) addPred(i + 1, i);
    }
  });
  if (!preds.has(0)) preds.set(0, []);
  if (arch === 'arm64') foldPageAddresses(insns, (i) => { const p = preds.get(i); return p !== undefined && (p.length !== 1 || p[0] !== i - 1); });
  return { fn, insns, indexOf, preds };
}

const cache = new WeakMap<PeImage, CodeModel | Unsupported>();

/**
 * The shared code model of an image, or why there is none: call-site analysis supports
 * x86, x64 and ARM64 machine code only (ARM, IA-64, ... are reported as unsupported).
 */
export function codeModelOf(image: PeImage, limits?: Partial<BudgetLimits>): CodeModel | Unsupported {
  let model = cache.get(image);
  if (!model) {
    model =
      codeArchOf(image.machine) !== undefined
        ? new CodeModel(image, new Budget({ ...DEFAULT_LIMITS, ...limits }))
        : { supported: false, reason: `call-site analysis supports x86, x64 and ARM64 code, not ${image.machineName}` };
    cache.set(image, model);
  }
  return model;
}

/**
 * Runs `f` on the image's shared code model; does nothing for machines without call-site
 * analysis (the report says so elsewhere). The decoder stays set up for the next rule:
 * analyze() frees it once, after all rules (releaseCodeModel).
 */
export function withCodeModel(image: PeImage, f: (model: CodeModel) => void): void {
  const model = codeModelOf(image);
  if (!('supported' in model)) f(model);
}

/** Frees the decoder's wasm memory (iced objects are not garbage-collected); the model stays usable. */
export function releaseCodeModel(image: PeImage): void {
  const model = cache.get(image);
  if (model && !('supported' in model)) model.reader.dispose();
}
