/**
 * A focused A64 decoder: the instruction forms the analysis reads (addresses, constants,
 * loads and stores, branches), each described in two ways:
 *   - `insn`: the analysis form shared with x86 (decoder.ts): `mov` for register, immediate
 *     and memory moves (ldr/str), `lea` for address arithmetic (adrp, adr, add/sub #imm),
 *     `cmp`/`test`, `movk`, `ldp`/`stp`, and branches with their flow kind;
 *   - `text`: objdump-style syntax for evidence ("adrp x16, 0x140005000").
 * Every other instruction keeps its A64 mnemonic and names the register it writes (bits 0–4)
 * as its first operand, so the data flow never reads a value through an instruction it does
 * not model. Words that are no A64 instruction here (udf, data) give flow "invalid".
 *
 * Figures behind writing this instead of using capstone's WebAssembly builds are in README.md
 * ("Dependencies, and why").
 */
import type { Flow, Insn, MemoryOperand, Operand } from '../decoder.js';

export interface A64Decoded {
  insn: Insn;
  /** Objdump-style text ("ldr x16, [x16, #0x10]"), with addresses as VAs; only when asked for. */
  text?: string;
}

const CONDITIONS = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
/** The x86 condition with the same meaning after a compare (the data flow's version tests read x86 condition codes). */
const X86_CONDITION = ['e', 'ne', 'ae', 'b', 's', 'ns', 'o', 'no', 'a', 'be', 'ge', 'l', 'g', 'le', 'mp', 'mp'];

/** Register name: 31 is sp/wsp where the encoding allows the stack pointer, else xzr/wzr. */
export function gpr(n: number, is64: boolean, spAllowed = false): string {
  if (n === 31) return spAllowed ? (is64 ? 'sp' : 'wsp') : is64 ? 'xzr' : 'wzr';
  return (is64 ? 'x' : 'w') + n;
}

function hex(n: number | bigint): string {
  if (typeof n === 'number') return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** An RVA as the VA objdump prints. */
function vaText(imageBase: bigint, rva: number): string {
  return hex(imageBase + BigInt(rva));
}

function signExtend(value: number, bits: number): number {
  const shift = 32 - bits;
  return (value << shift) >> shift;
}

/** DecodeBitMasks of the A64 reference: the value of a logical immediate, or undefined when reserved. */
export function bitmaskImmediate(n: number, immr: number, imms: number, is64: boolean): bigint | undefined {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return undefined;
  const len = 31 - Math.clz32(combined);
  if (len < 1 || (!is64 && n === 1)) return undefined;
  const size = 1 << len;
  const levels = size - 1;
  const s = imms & levels;
  const r = immr & levels;
  if (s === levels) return undefined;
  const elementMask = (1n << BigInt(size)) - 1n;
  let pattern = (1n << BigInt(s + 1)) - 1n;
  if (r !== 0) pattern = ((pattern >> BigInt(r)) | (pattern << BigInt(size - r))) & elementMask;
  const width = is64 ? 64 : 32;
  let out = 0n;
  for (let i = 0; i < width; i += size) out |= pattern << BigInt(i);
  return out;
}

const reg = (name: string): Operand => ({ kind: 'reg', reg: name });
const imm = (value: bigint): Operand => ({ kind: 'imm', value });
const branch = (target: number): Operand => ({ kind: 'branch', target });

function mem(base: string | undefined, disp: number, size: number, target?: number): MemoryOperand {
  const m: MemoryOperand = { kind: 'mem', scale: 1, disp, size };
  if (base !== undefined) m.base = base;
  if (target !== undefined) m.target = target;
  return m;
}

/** Writes a general-purpose register that the analysis does not model: the value is unknown after it. */
function other(rva: number, mnemonic: string, rd: number | undefined, text?: () => string): A64Decoded {
  const operands: Operand[] = rd !== undefined && rd !== 31 ? [reg(`x${rd}`)] : [];
  return { insn: { rva, length: 4, mnemonic, flow: 'next', operands }, ...(text ? { text: text() } : {}) };
}

function make(rva: number, mnemonic: string, flow: Flow, operands: Operand[], text: string | undefined): A64Decoded {
  const out: A64Decoded = { insn: { rva, length: 4, mnemonic, flow, operands } };
  if (text !== undefined) out.text = text;
  return out;
}

/**
 * Decodes the A64 word at `rva`. `imageBase` only shapes the text (addresses as VAs); the
 * operands hold RVAs. `withText` adds the objdump-style text.
 */
export function decodeA64(word: number, rva: number, imageBase: bigint, withText = false): A64Decoded {
  const w = word >>> 0;
  const T = withText;
  const rd = w & 31;

  // Branches, exceptions, system.
  if ((w & 0x7c000000) === 0x14000000) {
    const target = rva + signExtend(w & 0x3ffffff, 26) * 4;
    const isCall = (w & 0x80000000) !== 0;
    return make(rva, isCall ? 'call' : 'jmp', isCall ? 'call' : 'jmp', [branch(target)], T ? `${isCall ? 'bl' : 'b'} ${vaText(imageBase, target)}` : undefined);
  }
  if (((w & 0xff000010) >>> 0) === 0x54000000) {
    const target = rva + signExtend((w >>> 5) & 0x7ffff, 19) * 4;
    const cond = w & 15;
    if (cond >= 14) return make(rva, 'jmp', 'jmp', [branch(target)], T ? `b.${CONDITIONS[cond]} ${vaText(imageBase, target)}` : undefined);
    return make(rva, `j${X86_CONDITION[cond]}`, 'jcc', [branch(target)], T ? `b.${CONDITIONS[cond]} ${vaText(imageBase, target)}` : undefined);
  }
  if ((w & 0x7e000000) === 0x34000000) {
    const target = rva + signExtend((w >>> 5) & 0x7ffff, 19) * 4;
    const name = w & 0x01000000 ? 'cbnz' : 'cbz';
    const r = gpr(rd, (w & 0x80000000) !== 0);
    return make(rva, name, 'jcc', [branch(target), reg(r)], T ? `${name} ${r}, ${vaText(imageBase, target)}` : undefined);
  }
  if ((w & 0x7e000000) === 0x36000000) {
    const target = rva + signExtend((w >>> 5) & 0x3fff, 14) * 4;
    const bit = ((w >>> 31) << 5) | ((w >>> 19) & 31);
    const name = w & 0x01000000 ? 'tbnz' : 'tbz';
    const r = gpr(rd, bit >= 32);
    return make(rva, name, 'jcc', [branch(target), reg(r), imm(BigInt(bit))], T ? `${name} ${r}, #${bit}, ${vaText(imageBase, target)}` : undefined);
  }
  if (((w & 0xfe000000) >>> 0) === 0xd6000000) return branchRegister(w, rva, T);
  if (((w & 0xff000000) >>> 0) === 0xd4000000) {
    const opc = (w >>> 21) & 7;
    const ll = w & 3;
    const code = (w >>> 5) & 0xffff;
    const name = opc === 0 ? ['', 'svc', 'hvc', 'smc'][ll] : opc === 1 ? 'brk' : opc === 2 ? 'hlt' : '';
    if (!name) return make(rva, 'invalid', 'invalid', [], T ? `(invalid 0x${w.toString(16).padStart(8, '0')})` : undefined);
    return make(rva, name, name === 'brk' || name === 'hlt' ? 'interrupt' : 'next', [imm(BigInt(code))], T ? `${name} #${hex(code)}` : undefined);
  }
  if (((w & 0xffc00000) >>> 0) === 0xd5000000) return system(w, rva, T);

  // Data processing, immediate.
  if ((w & 0x1f000000) === 0x10000000) {
    const lo = (w >>> 29) & 3;
    const hi = signExtend((w >>> 5) & 0x7ffff, 19);
    const page = (w & 0x80000000) !== 0;
    const target = page ? (rva & ~0xfff) + (hi * 4 + lo) * 4096 : rva + hi * 4 + lo;
    const r = gpr(rd, true);
    // An address outside the 4 GiB above the image base is no image address (data decoded as adrp).
    const inImage = target >= 0 && target < 0x100000000;
    const out = make(rva, 'lea', 'next', [reg(r), mem(undefined, 0, 0, inImage ? target : undefined)], T ? `${page ? 'adrp' : 'adr'} ${r}, ${hex(imageBase + BigInt(target))}` : undefined);
    if (page) out.insn.pageAddress = true;
    return out;
  }
  if ((w & 0x1f000000) === 0x11000000) return addSubImmediate(w, rva, T);
  if ((w & 0x1f800000) === 0x12000000) return logicalImmediate(w, rva, T);
  if ((w & 0x1f800000) === 0x12800000) return moveWide(w, rva, T);
  if ((w & 0x1f800000) === 0x13000000) {
    const opc = (w >>> 29) & 3;
    const name = ['sbfm', 'bfm', 'ubfm', ''][opc] || 'invalid';
    if (name === 'invalid') return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
    const is64 = (w & 0x80000000) !== 0;
    const immr = (w >>> 16) & 0x3f;
    const imms = (w >>> 10) & 0x3f;
    const rn = (w >>> 5) & 31;
    const text = T ? bitfieldText(name, rd, rn, immr, imms, is64) : undefined;
    // Shifts, zero/sign extensions and field extracts of one register (bfm also keeps rd's other bits).
    if (name === 'bfm' || rd === 31 || rn === 31) return other(rva, name, rd, text === undefined ? undefined : () => text);
    return make(rva, name, 'next', [reg(gpr(rd, is64)), reg(gpr(rn, is64)), imm(BigInt(immr)), imm(BigInt(imms))], text);
  }
  if ((w & 0x1f800000) === 0x13800000) return other(rva, 'extr', rd, T ? () => `extr ${gpr(rd, (w & 0x80000000) !== 0)}, ...` : undefined);

  // Data processing, register.
  if ((w & 0x1f000000) === 0x0a000000) return logicalRegister(w, rva, T);
  if ((w & 0x1f000000) === 0x0b000000) return addSubRegister(w, rva, T);
  if ((w & 0x1fe00000) === 0x1a800000) return conditionalSelect(w, rva, T);
  if ((w & 0x0e000000) === 0x0a000000) return other(rva, 'dp-register', rd, T ? () => `dp-register ${gpr(rd, (w & 0x80000000) !== 0)}, ...` : undefined);

  // Loads and stores.
  if ((w & 0x0a000000) === 0x08000000) return loadStore(w, rva, T, imageBase);

  // SIMD and floating point: only moves into a general-purpose register matter here.
  if ((w & 0x0e000000) === 0x0e000000) {
    // FP<->integer conversions (fmov x0, d0; fcvtzs w0, s0) write rd as a GPR.
    if ((w & 0x5f20fc00) === 0x1e200000) return other(rva, 'fp-to-gpr', rd, T ? () => `fp-to-gpr x${rd}` : undefined);
    // umov/smov/mov from a vector element write a GPR.
    if (((w & 0x9fe0f400) >>> 0) === 0x0e002c00 || ((w & 0x9fe0fc00) >>> 0) === 0x0e003c00) return other(rva, 'umov', rd, T ? () => `umov x${rd}, ...` : undefined);
    return make(rva, 'simd', 'next', [], T ? 'simd ...' : undefined);
  }
  if (((w & 0xffff0000) >>> 0) === 0) return make(rva, 'invalid', 'invalid', [], T ? `udf #${hex(w & 0xffff)}` : undefined);
  return make(rva, 'invalid', 'invalid', [], T ? `(unknown 0x${w.toString(16).padStart(8, '0')})` : undefined);
}

/** The alias objdump prints for a bitfield move (lsl, lsr, asr, uxtb, sxtw, ubfx…). */
function bitfieldText(name: string, rd: number, rn: number, immr: number, imms: number, is64: boolean): string {
  const width = is64 ? 64 : 32;
  const d = gpr(rd, is64);
  const n = gpr(rn, is64);
  const w = gpr(rn, false);
  if (name === 'ubfm') {
    if (imms === width - 1) return `lsr ${d}, ${n}, #${immr}`;
    if (imms + 1 === immr) return `lsl ${d}, ${n}, #${width - 1 - imms}`;
    if (immr === 0 && (imms === 7 || imms === 15) && !is64) return `${imms === 7 ? 'uxtb' : 'uxth'} ${d}, ${w}`;
    return imms >= immr ? `ubfx ${d}, ${n}, #${immr}, #${imms - immr + 1}` : `ubfiz ${d}, ${n}, #${width - immr}, #${imms + 1}`;
  }
  if (name === 'sbfm') {
    if (imms === width - 1) return `asr ${d}, ${n}, #${immr}`;
    if (immr === 0 && (imms === 7 || imms === 15 || imms === 31)) return `${imms === 7 ? 'sxtb' : imms === 15 ? 'sxth' : 'sxtw'} ${d}, ${w}`;
    return imms >= immr ? `sbfx ${d}, ${n}, #${immr}, #${imms - immr + 1}` : `sbfiz ${d}, ${n}, #${width - immr}, #${imms + 1}`;
  }
  return `${name} ${d}, ${n}, #${immr}, #${imms}`;
}

/** A register read as a source: the zero register reads as the constant 0. */
function readOperand(r: number, is64: boolean): Operand {
  return r === 31 ? imm(0n) : reg(gpr(r, is64));
}

/** csel/csinc/csinv/csneg: csel and cset (csinc d, zr, zr) in the analysis form of cmovcc and setcc. */
function conditionalSelect(w: number, rva: number, T: boolean): A64Decoded {
  const is64 = (w & 0x80000000) !== 0;
  const op = ((w >>> 30) & 1) * 2 + ((w >>> 10) & 1);
  const name = ['csel', 'csinc', 'csinv', 'csneg'][op] as string;
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const rm = (w >>> 16) & 31;
  const cond = (w >>> 12) & 15;
  const d = gpr(rd, is64);
  const text = T ? `${name} ${d}, ${gpr(rn, is64)}, ${gpr(rm, is64)}, ${CONDITIONS[cond]}` : undefined;
  if (rd === 31 || cond >= 14) return other(rva, name, rd, text === undefined ? undefined : () => text);
  if (op === 0) return make(rva, `cmov${X86_CONDITION[cond]}`, 'next', [reg(d), readOperand(rn, is64), readOperand(rm, is64)], text);
  // cset d, cc is csinc d, zr, zr, !cc: 1 when cc holds.
  if (op === 1 && rn === 31 && rm === 31) return make(rva, `set${X86_CONDITION[cond ^ 1]}`, 'next', [reg(d)], text);
  return other(rva, name, rd, text === undefined ? undefined : () => text);
}

function branchRegister(w: number, rva: number, T: boolean): A64Decoded {
  const opc = (w >>> 21) & 15;
  const op2 = (w >>> 16) & 31;
  const rn = (w >>> 5) & 31;
  if (op2 !== 31) return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
  // opc 8/9 are the pointer-authenticating braa/blraa; bits 10–11 set mark braaz/retaa forms.
  const auth = (w >>> 11) & 1 ? (((w >>> 10) & 1) ? 'ab' : 'aa') : '';
  const kind = opc & 7;
  const target = gpr(rn, true);
  if (kind === 0) return make(rva, 'jmp', 'jmp-indirect', [reg(target)], T ? `br${auth} ${target}` : undefined);
  if (kind === 1) return make(rva, 'call', 'call-indirect', [reg(target)], T ? `blr${auth} ${target}` : undefined);
  if (kind === 2) return make(rva, 'ret', 'ret', [], T ? (rn === 30 ? `ret${auth}` : `ret ${target}`) : undefined);
  if (kind === 4) return make(rva, 'eret', 'ret', [], T ? 'eret' : undefined);
  return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
}

function system(w: number, rva: number, T: boolean): A64Decoded {
  const rt = w & 31;
  if (w === 0xd503201f) return make(rva, 'nop', 'next', [], T ? 'nop' : undefined);
  if (((w & 0xfffff01f) >>> 0) === 0xd503201f) return make(rva, 'hint', 'next', [], T ? `hint #${(w >>> 5) & 0x7f}` : undefined);
  if (((w & 0xfffff01f) >>> 0) === 0xd503301f) return make(rva, 'barrier', 'next', [], T ? 'barrier' : undefined);
  const isRead = (w & 0x00200000) !== 0;
  const isRegister = (w & 0x00100000) !== 0;
  if (isRegister && isRead) return other(rva, 'mrs', rt, T ? () => `mrs ${gpr(rt, true)}, s${(w >>> 5) & 0x7fff}` : undefined);
  if (isRegister) return make(rva, 'msr', 'next', [], T ? `msr s${(w >>> 5) & 0x7fff}, ${gpr(rt, true)}` : undefined);
  if (isRead) return other(rva, 'sysl', rt, T ? () => `sysl ${gpr(rt, true)}` : undefined);
  // sys: dc/ic/at/tlbi (cache and TLB maintenance), msr to PSTATE fields.
  return make(rva, 'sys', 'next', [], T ? `sys #${(w >>> 5) & 0x7fff}` : undefined);
}

function addSubImmediate(w: number, rva: number, T: boolean): A64Decoded {
  const is64 = (w & 0x80000000) !== 0;
  const isSub = (w & 0x40000000) !== 0;
  const setsFlags = (w & 0x20000000) !== 0;
  const shift = (w >>> 22) & 3;
  if (shift > 1) return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
  const value = ((w >>> 10) & 0xfff) << (shift * 12);
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const n = gpr(rn, is64, true);
  if (setsFlags && rd === 31) {
    const name = isSub ? 'cmp' : 'cmn';
    return make(rva, name, 'next', [reg(n), imm(BigInt(value))], T ? `${name} ${n}, #${hex(value)}` : undefined);
  }
  const d = gpr(rd, is64, !setsFlags);
  if (setsFlags) return make(rva, isSub ? 'subs' : 'adds', 'next', [reg(d), reg(n), imm(BigInt(value))], T ? `${isSub ? 'subs' : 'adds'} ${d}, ${n}, #${hex(value)}` : undefined);
  const disp = isSub ? -value : value;
  const text = T ? (value === 0 && (rd === 31 || rn === 31) ? `mov ${d}, ${n}` : `${isSub ? 'sub' : 'add'} ${d}, ${n}, #${hex(value)}`) : undefined;
  // A 32-bit add keeps only the low half: the analysis form is not an address then.
  if (!is64) return make(rva, isSub ? 'sub32' : 'add32', 'next', [reg(d)], text);
  return make(rva, 'lea', 'next', [reg(d), mem(n, disp, 0)], text);
}

function logicalImmediate(w: number, rva: number, T: boolean): A64Decoded {
  const is64 = (w & 0x80000000) !== 0;
  const opc = (w >>> 29) & 3;
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const value = bitmaskImmediate((w >>> 22) & 1, (w >>> 16) & 0x3f, (w >>> 10) & 0x3f, is64);
  if (value === undefined) return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
  const names = ['and', 'orr', 'eor', 'ands'];
  const name = names[opc] as string;
  const d = gpr(rd, is64, opc !== 3);
  const n = gpr(rn, is64);
  if (opc === 3 && rd === 31) return make(rva, 'test', 'next', [reg(n), imm(value)], T ? `tst ${n}, #${hex(value)}` : undefined);
  if (opc === 1 && rn === 31) return make(rva, 'mov', 'next', [reg(d), imm(value)], T ? `mov ${d}, #${hex(value)}` : undefined);
  const text = T ? `${name} ${d}, ${n}, #${hex(value)}` : undefined;
  if (rd === rn && (opc === 0 || opc === 1)) return make(rva, opc === 0 ? 'and' : 'or', 'next', [reg(d), imm(value)], text);
  // Three operands (d = n & imm, d = n | imm): the data flow follows n.
  if (rd !== 31 && rn !== 31 && (opc === 0 || opc === 1)) return make(rva, opc === 0 ? 'and' : 'or', 'next', [reg(d), reg(n), imm(value)], text);
  if (opc === 3 && rn !== 31) return make(rva, 'ands', 'next', [reg(d), reg(n), imm(value)], text);
  return make(rva, name, 'next', [reg(d)], text);
}

function moveWide(w: number, rva: number, T: boolean): A64Decoded {
  const is64 = (w & 0x80000000) !== 0;
  const opc = (w >>> 29) & 3;
  const hw = (w >>> 21) & 3;
  if (opc === 1 || (!is64 && hw > 1)) return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
  const rd = w & 31;
  const d = gpr(rd, is64);
  const shift = BigInt(hw * 16);
  const raw = BigInt((w >>> 5) & 0xffff);
  const mask = is64 ? 0xffffffffffffffffn : 0xffffffffn;
  if (opc === 3) {
    const field = 0xffffn << shift;
    return make(rva, 'movk', 'next', [reg(d), imm(raw << shift), imm(field)], T ? `movk ${d}, #${hex(raw)}${hw ? `, lsl #${hw * 16}` : ''}` : undefined);
  }
  const value = opc === 0 ? ~(raw << shift) & mask : (raw << shift) & mask;
  if (rd === 31) return make(rva, 'nop', 'next', [], T ? `mov ${d}, #${hex(value)}` : undefined);
  return make(rva, 'mov', 'next', [reg(d), imm(value)], T ? `mov ${d}, #${hex(opc === 0 ? BigInt.asIntN(is64 ? 64 : 32, value) : value)}` : undefined);
}

const SHIFTS = ['lsl', 'lsr', 'asr', 'ror'];

function logicalRegister(w: number, rva: number, T: boolean): A64Decoded {
  const is64 = (w & 0x80000000) !== 0;
  const opc = (w >>> 29) & 3;
  const negate = (w >>> 21) & 1;
  const shiftType = (w >>> 22) & 3;
  const amount = (w >>> 10) & 0x3f;
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const rm = (w >>> 16) & 31;
  const d = gpr(rd, is64);
  const n = gpr(rn, is64);
  const m = gpr(rm, is64);
  const shifted = amount !== 0 ? `, ${SHIFTS[shiftType]} #${amount}` : '';
  const name = negate ? ['bic', 'orn', 'eon', 'bics'][opc] as string : ['and', 'orr', 'eor', 'ands'][opc] as string;
  const text = T ? `${name} ${d}, ${n}, ${m}${shifted}` : undefined;
  if (opc === 1 && !negate && rn === 31 && amount === 0) {
    const t = T ? `mov ${d}, ${m}` : undefined;
    if (rd === 31) return make(rva, 'nop', 'next', [], t);
    return make(rva, 'mov', 'next', [reg(d), rm === 31 ? imm(0n) : reg(m)], t);
  }
  if (opc === 3 && rd === 31 && !negate && amount === 0) return make(rva, 'test', 'next', [reg(n), reg(m)], T ? `tst ${n}, ${m}` : undefined);
  if (opc === 2 && !negate && rn === rm && amount === 0 && rd !== 31) return make(rva, 'mov', 'next', [reg(d), imm(0n)], text);
  if (opc === 1 && !negate && rd === rn && amount === 0 && rd !== 31) return make(rva, 'or', 'next', [reg(d), rm === 31 ? imm(0n) : reg(m)], text);
  if (opc === 1 && !negate && amount === 0 && rd !== 31 && rn !== 31 && rm !== 31) return make(rva, 'or', 'next', [reg(d), reg(n), reg(m)], text);
  return other(rva, name, rd, text === undefined ? undefined : () => text);
}

function addSubRegister(w: number, rva: number, T: boolean): A64Decoded {
  const is64 = (w & 0x80000000) !== 0;
  const isSub = (w & 0x40000000) !== 0;
  const setsFlags = (w & 0x20000000) !== 0;
  const extended = (w & 0x00200000) !== 0;
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const rm = (w >>> 16) & 31;
  const n = gpr(rn, is64, extended);
  const m = gpr(rm, is64 && (!extended || ((w >>> 13) & 3) === 3));
  const amount = extended ? (w >>> 10) & 7 : (w >>> 10) & 0x3f;
  if (setsFlags && rd === 31) {
    const name = isSub ? 'cmp' : 'cmn';
    const plain = !extended && amount === 0;
    return make(rva, plain ? name : `${name}-shifted`, 'next', plain ? [reg(n), reg(m)] : [], T ? `${name} ${n}, ${m}` : undefined);
  }
  const name = `${isSub ? 'sub' : 'add'}${setsFlags ? 's' : ''}`;
  const d = gpr(rd, is64, extended && !setsFlags);
  const text = T ? `${name} ${d}, ${n}, ${m}${amount ? ` (${extended ? 'extended' : SHIFTS[(w >>> 22) & 3]} #${amount})` : ''}` : undefined;
  return other(rva, name, rd, text === undefined ? undefined : () => text);
}

/** Loads and stores: literal, unsigned offset, unscaled/pre/post-index, register offset, pairs. */
function loadStore(w: number, rva: number, T: boolean, imageBase: bigint): A64Decoded {
  const rt = w & 31;
  const rn = (w >>> 5) & 31;
  const isVector = (w & 0x04000000) !== 0;
  // Load register (literal).
  if ((w & 0x3b000000) === 0x18000000) {
    const opc = w >>> 30;
    const target = rva + signExtend((w >>> 5) & 0x7ffff, 19) * 4;
    if (isVector) {
      const t = `${['s', 'd', 'q', '?'][opc]}${rt}`;
      return make(rva, 'mov', 'next', [reg(t), mem(undefined, 0, [4, 8, 16, 0][opc] as number, target >>> 0)], T ? `ldr ${t}, ${vaText(imageBase, target)}` : undefined);
    }
    if (opc === 3) return make(rva, 'prfm', 'next', [], T ? `prfm ${vaText(imageBase, target)}` : undefined);
    const size = opc === 0 ? 4 : 8;
    const t = gpr(rt, opc !== 0);
    const name = opc === 2 ? 'ldrsw' : 'ldr';
    return make(rva, opc === 2 ? 'movsxd' : 'mov', 'next', [reg(t), mem(undefined, 0, size, target >>> 0)], T ? `${name} ${t}, ${vaText(imageBase, target)}` : undefined);
  }
  // Load/store pair.
  if ((w & 0x3a000000) === 0x28000000) return loadStorePair(w, rva, T);
  // Load/store register: unsigned offset (0x39…), or unscaled/pre/post/register (0x38…).
  if ((w & 0x3a000000) === 0x38000000) {
    const size = w >>> 30;
    const opc = (w >>> 22) & 3;
    const unsignedOffset = (w & 0x01000000) !== 0;
    let disp = 0;
    let writeback = 0;
    let index: string | undefined;
    let form: 'offset' | 'pre' | 'post' | 'unprivileged' = 'offset';
    if (unsignedOffset) {
      const scale = isVector && opc >= 2 ? 4 : size;
      disp = ((w >>> 10) & 0xfff) << scale;
    } else if ((w & 0x00200000) === 0) {
      disp = signExtend((w >>> 12) & 0x1ff, 9);
      const kind = (w >>> 10) & 3;
      if (kind === 1) {
        form = 'post';
        writeback = disp;
        disp = 0;
      } else if (kind === 3) {
        form = 'pre';
        writeback = disp;
      } else if (kind === 2) form = 'unprivileged';
    } else if (((w >>> 10) & 3) === 2) {
      const option = (w >>> 13) & 7;
      index = gpr((w >>> 16) & 31, (option & 3) === 3);
    } else {
      // Atomic memory operations (ldadd, swp, cas...): they write rt.
      return other(rva, 'atomic', rt, T ? () => `atomic ${gpr(rt, true)}, [${gpr(rn, true, true)}]` : undefined);
    }
    const base = gpr(rn, true, true);
    const addr = index ? `[${base}, ${index}]` : form === 'post' ? `[${base}], #${writeback}` : disp === 0 ? `[${base}]` : `[${base}, #${disp}]${form === 'pre' ? '!' : ''}`;
    const prefix = form === 'unprivileged' ? 't' : !unsignedOffset && !index && form === 'offset' ? 'u' : '';
    if (isVector) {
      const bytes = opc >= 2 ? 16 : 1 << size;
      const t = `${['b', 'h', 's', 'd', 'q'][opc >= 2 ? 4 : size]}${rt}`;
      const isLoad = (opc & 1) === 1;
      const name = `${isLoad ? 'ld' : 'st'}${prefix === 'u' ? 'ur' : 'r'}`;
      return withWriteback(memoryMove(rva, isLoad, t, base, index, disp, bytes, 'mov'), writeback, T ? `${name} ${t}, ${addr}` : undefined);
    }
    if (size === 3 && opc === 2) return make(rva, 'prfm', 'next', [], T ? `prfm ${addr}` : undefined);
    const bytes = 1 << size;
    const suffix = ['b', 'h', '', ''][size] as string;
    if (opc === 0) {
      const t = gpr(rt, size === 3);
      const name = `st${prefix === 'u' ? 'ur' : prefix === 't' ? 'tr' : 'r'}${suffix}`;
      return withWriteback(memoryMove(rva, false, rt === 31 ? undefined : t, base, index, disp, bytes, 'mov'), writeback, T ? `${name} ${t}, ${addr}` : undefined);
    }
    const signed = opc >= 2;
    const is64 = opc === 2 || size === 3;
    const t = gpr(rt, is64);
    const name = `ld${prefix === 'u' ? 'ur' : prefix === 't' ? 'tr' : 'r'}${signed ? 's' : ''}${suffix || (signed ? 'w' : '')}`;
    const lifted = signed ? (bytes === 4 ? 'movsxd' : 'movsx') : bytes < 4 ? 'movzx' : 'mov';
    return withWriteback(memoryMove(rva, true, t, base, index, disp, bytes, lifted), writeback, T ? `${name} ${t}, ${addr}` : undefined);
  }
  // Exclusive, acquire/release and other loads and stores: loads write rt.
  const isLoad = (w & 0x00400000) !== 0;
  return isLoad
    ? other(rva, 'ldxr', rt, T ? () => `ldxr ${gpr(rt, true)}, [${gpr(rn, true, true)}]` : undefined)
    : other(rva, 'stxr', (w >>> 16) & 31, T ? () => `stxr [${gpr(rn, true, true)}]` : undefined);
}

/** A load (register ← memory) or store (memory ← register; undefined data is the zero register). */
function memoryMove(rva: number, isLoad: boolean, t: string | undefined, base: string, index: string | undefined, disp: number, size: number, mnemonic: string): Insn {
  const m = mem(base, disp, size);
  if (index) m.index = index;
  const data = t === undefined ? imm(0n) : reg(t);
  return { rva, length: 4, mnemonic, flow: 'next', operands: isLoad ? [data, m] : [m, data] };
}

function withWriteback(insn: Insn, writeback: number, text: string | undefined): A64Decoded {
  if (writeback !== 0) insn.writeback = writeback;
  return text === undefined ? { insn } : { insn, text };
}

function loadStorePair(w: number, rva: number, T: boolean): A64Decoded {
  const opc = w >>> 30;
  const isVector = (w & 0x04000000) !== 0;
  const isLoad = (w & 0x00400000) !== 0;
  const kind = (w >>> 23) & 3;
  const rt = w & 31;
  const rt2 = (w >>> 10) & 31;
  const rn = (w >>> 5) & 31;
  const size = isVector ? 4 << opc : opc === 2 ? 8 : 4;
  if (opc === 3 || (!isVector && opc === 1 && !isLoad)) return make(rva, 'invalid', 'invalid', [], T ? '(invalid)' : undefined);
  const offset = signExtend((w >>> 15) & 0x7f, 7) * size;
  const base = gpr(rn, true, true);
  const name = (isLoad ? 'ldp' : 'stp').replace('p', kind === 0 ? 'np' : 'p') + (opc === 1 && !isVector ? 'sw' : '');
  const wide = opc === 2 || (opc === 1 && isLoad);
  const t1 = isVector ? `${['s', 'd', 'q'][opc]}${rt}` : gpr(rt, wide);
  const t2 = isVector ? `${['s', 'd', 'q'][opc]}${rt2}` : gpr(rt2, wide);
  const disp = kind === 1 ? 0 : offset;
  const writeback = kind === 1 || kind === 3 ? offset : 0;
  const addr = kind === 1 ? `[${base}], #${offset}` : offset === 0 ? `[${base}]` : `[${base}, #${offset}]${kind === 3 ? '!' : ''}`;
  const m = mem(base, disp, size * 2);
  const insn: Insn = {
    rva,
    length: 4,
    mnemonic: isLoad ? 'ldp' : 'stp',
    flow: 'next',
    operands: isLoad ? [reg(t1), reg(t2), m] : [m, isVector ? reg(t1) : readOperand(rt, wide), isVector ? reg(t2) : readOperand(rt2, wide)],
  };
  return withWriteback(insn, writeback, T ? `${name} ${t1}, ${t2}, ${addr}` : undefined);
}

/** Flow kind and direct target of a word, without building operands (function discovery). */
export function flowOfA64(word: number, rva: number): { flow: Flow; target?: number } {
  const w = word >>> 0;
  if ((w & 0x7c000000) === 0x14000000) {
    return { flow: w & 0x80000000 ? 'call' : 'jmp', target: (rva + signExtend(w & 0x3ffffff, 26) * 4) >>> 0 };
  }
  if (((w & 0xff000010) >>> 0) === 0x54000000) {
    const target = (rva + signExtend((w >>> 5) & 0x7ffff, 19) * 4) >>> 0;
    return { flow: (w & 15) >= 14 ? 'jmp' : 'jcc', target };
  }
  if ((w & 0x7e000000) === 0x34000000) return { flow: 'jcc', target: (rva + signExtend((w >>> 5) & 0x7ffff, 19) * 4) >>> 0 };
  if ((w & 0x7e000000) === 0x36000000) return { flow: 'jcc', target: (rva + signExtend((w >>> 5) & 0x3fff, 14) * 4) >>> 0 };
  if (((w & 0xfe000000) >>> 0) === 0xd6000000 || ((w & 0xff000000) >>> 0) === 0xd4000000 || ((w & 0xffff0000) >>> 0) === 0) return { flow: decodeA64(w, rva, 0n).insn.flow };
  return { flow: 'next' };
}
