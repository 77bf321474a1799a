/**
 * The only module that talks to iced-x86. Everything else sees plain, serialisable
 * instructions: a mnemonic, a flow kind and decoded operands with RVAs already worked out.
 *
 * Instructions are decoded with IP = RVA, so RIP-relative operands and branch targets come
 * out as RVAs; absolute (x86) addresses are converted by subtracting the image base. Text
 * for evidence is produced on demand (`formatInstruction`) with IP = VA, so it reads like
 * objdump or IDA output for the same file.
 */
import { type Budget, type BudgetLimits, DEFAULT_LIMITS } from './budget.js';
import {
  Decoder,
  DecoderOptions,
  FlowControl,
  Formatter,
  FormatterSyntax,
  Instruction,
  MemorySizeExt,
  MemorySizeOptions,
  Mnemonic,
  OpKind,
  Register,
} from './iced.js';

export type Bitness = 32 | 64;

/** How control leaves an instruction. */
export type Flow = 'next' | 'jmp' | 'jmp-indirect' | 'jcc' | 'ret' | 'call' | 'call-indirect' | 'interrupt' | 'invalid';

export interface RegisterOperand {
  kind: 'reg';
  /** Lower-case register name as written: "ecx", "r9d", "cr0". */
  reg: string;
}
export interface ImmediateOperand {
  kind: 'imm';
  /** Zero-extended to the operand size (sign-extended imm8 of a 32-bit op gives 0xFFFFFFxx). */
  value: bigint;
}
export interface MemoryOperand {
  kind: 'mem';
  /** Base register ("rsp", "ebp"); absent for absolute and RIP-relative addresses. */
  base?: string;
  index?: string;
  scale: number;
  /** Signed displacement; for absolute/RIP-relative operands see `target`. */
  disp: number;
  /** Access size in bytes (0 when iced has none, e.g. lea). */
  size: number;
  /** RVA addressed by a RIP-relative or absolute operand (no base, no index). */
  target?: number;
}
export interface BranchOperand {
  kind: 'branch';
  /** RVA of the branch target. */
  target: number;
}
export type Operand = RegisterOperand | ImmediateOperand | MemoryOperand | BranchOperand | { kind: 'other' };

export interface Insn {
  rva: number;
  length: number;
  /** Lower-case mnemonic: "mov", "call", "xor". */
  mnemonic: string;
  flow: Flow;
  operands: Operand[];
  /**
   * ARM64 pre/post-indexed loads and stores: the memory operand's base register changes by
   * this many bytes (the operand's `disp` is from the base before the instruction).
   */
  writeback?: number;
  /** ARM64 adrp: the address is a 4 KiB page; a later load, store or add supplies the low 12 bits. */
  pageAddress?: boolean;
  /** ARM64: the adrp whose page this instruction's address builds on (arm64/fold.ts), for evidence. */
  pageRva?: number;
}

/** What function discovery needs of an instruction. */
export interface FlowInsn {
  rva: number;
  length: number;
  flow: Flow;
  /** Direct branch or call target (RVA). */
  target?: number;
}

/** Where the code bytes come from (PeImage.space provides `bytesAt`). */
export interface CodeBytes {
  bytesAt(rva: number, size: number): Uint8Array | undefined;
}

/** What function discovery and the code model need of a decoder (x86/x64: CodeReader; ARM64: Arm64Reader). */
export interface InstructionReader {
  readonly limits: BudgetLimits;
  decodeAt(rva: number): Insn | undefined;
  flowAt(rva: number): FlowInsn | undefined;
  dispose(): void;
}

/** Code bytes in windows: the file bytes around `rva` (normally its whole section). */
export interface CodeWindows {
  windowAt(rva: number): { rva: number; bytes: Uint8Array } | undefined;
}

const FLOW: Record<number, Flow> = {
  [FlowControl.Next]: 'next',
  [FlowControl.UnconditionalBranch]: 'jmp',
  [FlowControl.IndirectBranch]: 'jmp-indirect',
  [FlowControl.ConditionalBranch]: 'jcc',
  [FlowControl.Return]: 'ret',
  [FlowControl.Call]: 'call',
  [FlowControl.IndirectCall]: 'call-indirect',
  [FlowControl.Interrupt]: 'interrupt',
  [FlowControl.XbeginXabortXend]: 'next',
  [FlowControl.Exception]: 'invalid',
};

const registerNames = new Map<number, string>();
function registerName(r: number): string {
  let name = registerNames.get(r);
  if (name === undefined) {
    name = (Register[r] ?? `reg${r}`).toLowerCase();
    registerNames.set(r, name);
  }
  return name;
}

const mnemonicNames = new Map<number, string>();
function mnemonicName(m: number): string {
  let name = mnemonicNames.get(m);
  if (name === undefined) {
    name = (Mnemonic[m] ?? `op${m}`).toLowerCase();
    mnemonicNames.set(m, name);
  }
  return name;
}

const memorySizes = new Map<number, number>();
function memorySize(ms: number): number {
  let size = memorySizes.get(ms);
  if (size === undefined) {
    size = MemorySizeExt.size(ms);
    memorySizes.set(ms, size);
  }
  return size;
}

/** Bytes of a general-purpose register by name, 0 for anything else. */
export function registerSize(reg: string): number {
  return GPR_INFO.get(reg)?.size ?? 0;
}

/**
 * General-purpose register family 0..15 (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15),
 * or -1 when `reg` is not a general-purpose register. "cl", "ecx" and "rcx" share family 1.
 */
export function registerFamily(reg: string): number {
  return GPR_INFO.get(reg)?.family ?? -1;
}

export const FAMILY_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
export const SP = 4;
export const BP = 5;
/** Register family of ARM64 x0 (x_n is ARM64_X0 + n). */
export const ARM64_X0 = 16;

const GPR_INFO = new Map<string, { family: number; size: number }>();
{
  const legacy = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
  const bytes = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
  legacy.forEach((n, i) => {
    GPR_INFO.set(`r${n}`, { family: i, size: 8 });
    GPR_INFO.set(`e${n}`, { family: i, size: 4 });
    GPR_INFO.set(n, { family: i, size: 2 });
    GPR_INFO.set(bytes[i] as string, { family: i, size: 1 });
  });
  ['ah', 'ch', 'dh', 'bh'].forEach((n, i) => GPR_INFO.set(n, { family: i, size: 1 }));
  for (let i = 8; i < 16; i++) {
    GPR_INFO.set(`r${i}`, { family: i, size: 8 });
    GPR_INFO.set(`r${i}d`, { family: i, size: 4 });
    GPR_INFO.set(`r${i}w`, { family: i, size: 2 });
    GPR_INFO.set(`r${i}l`, { family: i, size: 1 });
  }
  // ARM64: x0–x30 are families 16–46 (w0–w30 their low halves); the stack pointer shares
  // family SP with x86 ("sp" is also x86's 16-bit name). xzr/wzr are no family: reading them gives 0.
  for (let i = 0; i <= 30; i++) {
    GPR_INFO.set(`x${i}`, { family: ARM64_X0 + i, size: 8 });
    GPR_INFO.set(`w${i}`, { family: ARM64_X0 + i, size: 4 });
  }
  GPR_INFO.set('wsp', { family: SP, size: 4 });
}

function sizeMask(bytes: number): bigint {
  return bytes >= 8 || bytes <= 0 ? 0xffffffffffffffffn : (1n << BigInt(bytes * 8)) - 1n;
}

/** A reusable decoder over one buffer: decodes the instruction at any RVA inside it. */
export class CodeReader implements InstructionReader {
  private instruction: Instruction | undefined;
  private decoder: Decoder | undefined;
  private window: { rva: number; bytes: Uint8Array } | undefined;
  /** Where the decoder stands after the last decode: a straight run needs no repositioning (two wasm calls and a BigInt each). */
  private nextRva = -1;

  constructor(
    private readonly code: CodeWindows,
    readonly bitness: Bitness,
    readonly imageBase: bigint,
    /** Charged once per decoded instruction; throws BudgetExceeded past its limit. */
    private readonly budget?: Budget,
  ) {}

  /** The image's work limits (discovery reads its own from here). */
  get limits(): BudgetLimits {
    return this.budget?.limits ?? DEFAULT_LIMITS;
  }

  /** The instruction at `rva`, or undefined when the bytes are missing. Invalid bytes give flow "invalid". */
  decodeAt(rva: number): Insn | undefined {
    const decoder = this.decoderFor(rva);
    if (!decoder) return undefined;
    this.budget?.chargeInstructions();
    const instr = (this.instruction ??= new Instruction());
    decoder.decodeOut(instr);
    this.nextRva = instr.length > 0 ? rva + instr.length : -1;
    return this.convert(instr, rva);
  }

  /** Length and control flow only (cheaper: no operands), for function discovery. */
  flowAt(rva: number): FlowInsn | undefined {
    const decoder = this.decoderFor(rva);
    if (!decoder) return undefined;
    this.budget?.chargeInstructions();
    const instr = (this.instruction ??= new Instruction());
    decoder.decodeOut(instr);
    const length = instr.length;
    this.nextRva = length > 0 ? rva + length : -1;
    if (instr.isInvalid) return { rva, length: Math.max(length, 1), flow: 'invalid' };
    const flow = FLOW[instr.flowControl] ?? 'next';
    const out: FlowInsn = { rva, length, flow };
    if (flow === 'jmp' || flow === 'jcc' || flow === 'call') {
      const k = instr.op0Kind;
      if (k === OpKind.NearBranch16 || k === OpKind.NearBranch32 || k === OpKind.NearBranch64) {
        out.target = instr.nearBranch32 >>> 0;
      }
    }
    return out;
  }

  /**
   * Frees the wasm memory (iced objects are not garbage-collected). The reader stays usable:
   * the next decode allocates again.
   */
  dispose(): void {
    this.decoder?.free();
    this.decoder = undefined;
    this.window = undefined;
    this.nextRva = -1;
    this.instruction?.free();
    this.instruction = undefined;
  }

  /**
   * Reuses one iced Decoder per window (a whole section: the Decoder copies its bytes into
   * wasm memory once), moving to another window only when `rva` leaves the current one.
   */
  private decoderFor(rva: number): Decoder | undefined {
    const w = this.window;
    if (!w || rva < w.rva || rva >= w.rva + w.bytes.length) {
      const next = this.code.windowAt(rva);
      if (!next || next.bytes.length === 0 || rva < next.rva || rva >= next.rva + next.bytes.length) return undefined;
      this.decoder?.free();
      this.decoder = new Decoder(this.bitness, next.bytes, DecoderOptions.None);
      this.window = next;
      this.nextRva = -1;
    }
    const win = this.window as { rva: number; bytes: Uint8Array };
    const decoder = this.decoder as Decoder;
    if (rva !== this.nextRva) {
      decoder.position = rva - win.rva;
      decoder.ip = BigInt(rva);
    }
    return decoder;
  }

  private convert(instr: Instruction, rva: number): Insn {
    const length = instr.length;
    if (instr.isInvalid) return { rva, length: Math.max(length, 1), mnemonic: 'invalid', flow: 'invalid', operands: [] };
    const flow = FLOW[instr.flowControl] ?? 'next';
    const operands: Operand[] = [];
    const count = instr.opCount;
    let firstSize = 0;
    for (let i = 0; i < count; i++) {
      const k = instr.opKind(i);
      if (k === OpKind.Register) {
        const reg = registerName(instr.opRegister(i));
        if (i === 0) firstSize = registerSize(reg);
        operands.push({ kind: 'reg', reg });
      } else if (k === OpKind.NearBranch16 || k === OpKind.NearBranch32 || k === OpKind.NearBranch64) {
        operands.push({ kind: 'branch', target: instr.nearBranch32 >>> 0 });
      } else if (k >= OpKind.Immediate8 && k <= OpKind.Immediate32to64) {
        const size = firstSize || (this.bitness === 64 ? 8 : 4);
        operands.push({ kind: 'imm', value: instr.immediate(i) & sizeMask(size) });
      } else if (k === OpKind.Memory) {
        const mem = this.memoryOperand(instr);
        if (i === 0) firstSize = mem.size;
        operands.push(mem);
      } else {
        operands.push({ kind: 'other' });
      }
    }
    return { rva, length, mnemonic: mnemonicName(instr.mnemonic), flow, operands };
  }

  private memoryOperand(instr: Instruction): MemoryOperand {
    const baseReg = instr.memoryBase;
    const indexReg = instr.memoryIndex;
    const raw = instr.memoryDisplacement;
    const size = memorySize(instr.memorySize);
    const scale = instr.memoryIndexScale;
    if (baseReg === Register.RIP || baseReg === Register.EIP) {
      return { kind: 'mem', scale, disp: 0, size, target: Number(BigInt.asUintN(32, raw)) };
    }
    const disp = Number(this.bitness === 64 ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw));
    const mem: MemoryOperand = { kind: 'mem', scale, disp, size };
    if (baseReg !== Register.None) mem.base = registerName(baseReg);
    if (indexReg !== Register.None) mem.index = registerName(indexReg);
    if (baseReg === Register.None && indexReg === Register.None) {
      const rva = BigInt.asUintN(this.bitness, raw) - this.imageBase;
      if (rva >= 0n && rva < 0x100000000n) mem.target = Number(rva);
    }
    return mem;
  }
}

let formatter: Formatter | undefined;

/**
 * Intel-syntax text of the instruction at `rva` ("call qword ptr [0x140002000]"), with
 * addresses as VAs. Undefined when the bytes are missing.
 */
export function formatInstruction(code: CodeBytes, bitness: Bitness, imageBase: bigint, rva: number): string | undefined {
  const bytes = code.bytesAt(rva, 15);
  if (!bytes || bytes.length === 0) return undefined;
  if (!formatter) {
    formatter = new Formatter(FormatterSyntax.Intel);
    formatter.hexPrefix = '0x';
    formatter.hexSuffix = '';
    formatter.uppercaseHex = false;
    formatter.spaceAfterOperandSeparator = true;
    formatter.firstOperandCharIndex = 0;
    formatter.memorySizeOptions = MemorySizeOptions.Always;
    formatter.branchLeadingZeros = false;
  }
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = imageBase + BigInt(rva);
  const instr = decoder.decode();
  const text = instr.isInvalid ? '(invalid)' : formatter.format(instr);
  instr.free();
  decoder.free();
  return text;
}

/** Hex bytes of an instruction ("ff 15 af 0f 00 00"). */
export function instructionBytes(code: CodeBytes, insn: Insn): string {
  const bytes = code.bytesAt(insn.rva, insn.length) ?? new Uint8Array(0);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
