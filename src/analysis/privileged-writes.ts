/**
 * Writes to privileged CPU state that drivers use to patch the kernel (rule book §8):
 *   cr0-write   mov cr0, reg  — 0F 22 /r, ModRM C0..C7 (reg field 0), usually after clearing
 *               WP (bit 16) so read-only pages can be written
 *   cr4-write   mov cr4, reg  — 0F 22 /r, ModRM E0..E7 (reg field 4): SMEP (bit 20) / SMAP
 *               (bit 21) tampering
 *   msr-write   wrmsr         — 0F 30, MSR number in ecx: IA32_LSTAR (0xC0000082) and
 *               IA32_SYSENTER_EIP (0x176) are the system-call entry points hooks replace
 * A REX prefix may precede `mov crN` (41 for r8..r15); REX.R would make it CR8/CR12 (CR8 is
 * the IRQL register, not these rules) — the decoder tells. Candidates are found by a byte
 * scan and confirmed with the decoder inside the function that contains them; that function
 * must be reached code (reachability.ts) and the bytes no data directory's (data-ranges.ts).
 *
 * A CR0 write that clears WP and a later write in the same function that sets it again are
 * one patching sequence: `findControlRegisterWrites` returns the clearing write with the
 * restoring one attached (`restoredBy`), not two writes. The restoring write is the next
 * write of the function when it clears nothing itself (it sets the bits again, or writes back
 * a value saved before the clear).
 */
import type { CodeModel, FunctionCode } from './code-model.js';
import { resolveBefore } from './dataflow.js';
import { type Insn, type Operand, registerFamily } from './decoder.js';
import { type CodeFunction, functionName } from './functions.js';
import { isReached } from './reachability.js';

export interface PrivilegedWrite {
  rva: number;
  function: string;
  functionRva: number;
  /** "mov cr0, rax", "wrmsr" */
  text: string;
  /** The instructions just before it (mov rax, cr0; and rax, ...), in order. */
  context: Array<{ rva: number; text: string }>;
}

export interface ControlRegisterWrite extends PrivilegedWrite {
  /** Bits the code clears just before the write (`and r, ~mask` or `btr r, n`), as a mask. */
  clearedBits: bigint;
  /** Bits the code sets just before the write (`or r, mask` or `bts r, n`), as a mask. */
  setBits: bigint;
  /** The later write in the same function that undoes this one (sets WP again), when there is one. */
  restoredBy?: PrivilegedWrite & { setBits: bigint };
}

export interface MsrWrite extends PrivilegedWrite {
  /** The MSR numbers ecx may hold (empty when not constant); every value of a counting loop. */
  msrs: bigint[];
  /** Set when ecx counts in a loop around the wrmsr: the counter's first value, step and the compare that ends it. */
  loop?: { first: bigint; step: bigint; count: number; compareRva: number };
}

const CONTEXT = 6;

/** `mov crN, reg` instructions (N = 0 or 4); a clear-then-restore pair of one function is one entry. */
export function findControlRegisterWrites(model: CodeModel, cr: 0 | 4): ControlRegisterWrite[] {
  const lo = 0xc0 | (cr << 3);
  const writes: Array<ControlRegisterWrite & { functionStart: number }> = [];
  const hits = confirmed(model, [0x0f, 0x22], (b) => b >= lo && b <= lo + 7, (insn) => insn.mnemonic === 'mov' && isReg(insn, `cr${cr}`));
  for (const hit of hits) {
    const { code, index } = hit;
    let clearedBits = 0n;
    let setBits = 0n;
    // Only the instructions since the previous write to the same register count: the
    // restoring write must not inherit the `and` that came before the clearing one.
    let from = Math.max(0, index - CONTEXT);
    for (let k = index - 1; k >= from; k--) if (isReg(code.insns[k] as Insn, `cr${cr}`)) from = k + 1;
    for (const b of code.insns.slice(from, index)) {
      const imm = b.operands[1];
      if (imm?.kind !== 'imm') continue;
      if (b.mnemonic === 'and') clearedBits |= ~imm.value & 0xffffffffn;
      if (b.mnemonic === 'btr') clearedBits |= 1n << (imm.value & 63n);
      if (b.mnemonic === 'or') setBits |= imm.value & 0xffffffffn;
      if (b.mnemonic === 'bts') setBits |= 1n << (imm.value & 63n);
    }
    writes.push({ ...hit.write, clearedBits, setBits, functionStart: code.fn.start });
  }
  writes.sort((a, b) => a.rva - b.rva);
  const out: ControlRegisterWrite[] = [];
  const absorbed = new Set<number>();
  for (const w of writes) {
    if (absorbed.has(w.rva)) continue;
    const { functionStart, ...write } = w;
    if (w.clearedBits !== 0n) {
      // The next write of the same function restores it when it clears nothing itself: it
      // sets the bits again (`or rax, 0x10000`) or writes back a value saved before.
      const restore = writes.find((r) => r.rva > w.rva && r.functionStart === functionStart && !absorbed.has(r.rva));
      if (restore && restore.clearedBits === 0n) {
        absorbed.add(restore.rva);
        const restoredBy = { rva: restore.rva, function: restore.function, functionRva: restore.functionRva, text: restore.text, context: restore.context, setBits: restore.setBits };
        out.push({ ...write, restoredBy });
        continue;
      }
    }
    out.push(write);
  }
  return out;
}

/** `wrmsr` instructions with the MSR numbers ecx holds there. */
export function findMsrWrites(model: CodeModel): MsrWrite[] {
  const out: MsrWrite[] = [];
  for (const { code, index, write } of confirmed(model, [0x0f, 0x30], undefined, (insn) => insn.mnemonic === 'wrmsr')) {
    const msrs = resolveBefore(model, code, index, { k: 'reg', fam: 1 })
      .map((v) => (v.origin.kind === 'const' && !v.merged ? v.origin.value & 0xffffffffn : undefined))
      .filter((v): v is bigint => v !== undefined);
    const loop = msrs.length === 1 ? countingLoop(code, index, msrs[0] as bigint) : undefined;
    if (loop) out.push({ ...write, msrs: loop.values, loop: { first: msrs[0] as bigint, step: loop.step, count: loop.values.length, compareRva: loop.compareRva } });
    else out.push({ ...write, msrs: [...new Set(msrs)] });
  }
  return out;
}

/** Most values a counting loop is expanded to; a longer loop is not expanded (only its first value is known). */
const MAX_LOOP_VALUES = 4096;

/**
 * ecx at instruction `index` (a wrmsr) inside a counting loop: `first` on entry (what backward
 * data flow found, which stops at the loop's back edge), then the counter steps by a constant
 * until the compare that closes the loop fails. Recognised shape, as compilers emit it:
 *   [mov ecx, <counter>]  wrmsr  …  add/sub/inc/dec <counter>  …  cmp <counter>, imm
 *   (setcc r8; test r8, r8)  jcc <loop top>
 * where <counter> is ecx itself or the register / stack slot ecx is copied from in the loop.
 */
function countingLoop(code: FunctionCode, index: number, first: bigint): { values: bigint[]; step: bigint; compareRva: number } | undefined {
  // The back edge: the nearest conditional jump after the wrmsr that jumps to or above it.
  let back = -1;
  let top = -1;
  for (let j = index + 1; j < code.insns.length && j <= index + LOOP_SCAN; j++) {
    const x = code.insns[j] as Insn;
    const target = x.operands[0]?.kind === 'branch' ? x.operands[0].target : undefined;
    const t = target === undefined ? undefined : code.indexOf.get(target);
    if (x.flow === 'jcc' && t !== undefined && t <= index) {
      [back, top] = [j, t];
      break;
    }
    if (x.flow === 'ret' || x.flow === 'jmp' || x.flow === 'jmp-indirect') return undefined;
  }
  if (back < 0) return undefined;
  const body = code.insns.slice(top, back + 1);
  // The counter: what ecx is copied from inside the loop, before the wrmsr; else ecx itself.
  let counter: Operand = { kind: 'reg', reg: 'ecx' };
  for (let j = index - 1; j >= top; j--) {
    const x = code.insns[j] as Insn;
    const [dst, src] = x.operands;
    if (dst?.kind === 'reg' && registerFamily(dst.reg) === 1 && !READ_ONLY.has(x.mnemonic)) {
      if (x.mnemonic !== 'mov' || !src || (src.kind !== 'reg' && src.kind !== 'mem')) return undefined;
      counter = src;
      break;
    }
  }
  const same = (op: Operand | undefined): boolean => op !== undefined && sameOperand(op, counter);
  let step: bigint | undefined;
  for (const x of body) {
    const [dst, src] = x.operands;
    if (!same(dst) || READ_ONLY.has(x.mnemonic)) continue;
    const d =
      x.mnemonic === 'inc' ? 1n : x.mnemonic === 'dec' ? -1n : x.mnemonic === 'add' && src?.kind === 'imm' ? src.value : x.mnemonic === 'sub' && src?.kind === 'imm' ? -src.value : undefined;
    if (d === undefined || step !== undefined) return undefined; // written some other way, or twice
    step = BigInt.asIntN(32, d);
  }
  if (step === undefined || step === 0n) return undefined;
  // The compare that decides the back edge, and the condition under which the loop goes on.
  const cmpAt = body.findIndex((x) => x.mnemonic === 'cmp' && same(x.operands[0]) && x.operands[1]?.kind === 'imm');
  const cmp = body[cmpAt];
  const limit = cmp?.operands[1]?.kind === 'imm' ? BigInt.asUintN(32, cmp.operands[1].value) : undefined;
  if (!cmp || limit === undefined) return undefined;
  const jcc = code.insns[back] as Insn;
  let cc = jcc.mnemonic.slice(1);
  const between = body.slice(cmpAt + 1, body.length - 1);
  const setcc = between.find((x) => x.mnemonic.startsWith('set'));
  if (setcc) {
    // cmp; setCC r8; test r8, r8; jne/je top (unoptimised code)
    if (cc !== 'ne' && cc !== 'e') return undefined;
    const inner = setcc.mnemonic.slice(3);
    cc = cc === 'ne' ? inner : NEGATE[inner] ?? '';
  } else if (between.some((x) => !KEEPS_FLAGS.has(x.mnemonic))) {
    return undefined;
  }
  const goesOn = (v: bigint): boolean | undefined => {
    const s = BigInt.asIntN(32, v);
    const l = BigInt.asIntN(32, limit);
    switch (cc) {
      case 'ne': case 'nz': return v !== limit;
      case 'b': case 'c': return v < limit;
      case 'be': return v <= limit;
      case 'a': return v > limit;
      case 'ae': case 'nc': return v >= limit;
      case 'l': return s < l;
      case 'le': return s <= l;
      case 'g': return s > l;
      case 'ge': return s >= l;
      default: return undefined;
    }
  };
  // The compare comes after the step in both loop shapes compilers emit (do-while, and the
  // unoptimised jump to a bottom test), so each value after the first is checked before use.
  const values = [first];
  for (let v = BigInt.asUintN(32, first + step); values.length <= MAX_LOOP_VALUES; v = BigInt.asUintN(32, v + step)) {
    const on = goesOn(v);
    if (on === undefined) return undefined;
    if (!on) return values.length > 1 ? { values, step, compareRva: cmp.rva } : undefined;
    values.push(v);
  }
  return undefined; // too many values (or a loop that never ends by this compare)
}

const LOOP_SCAN = 64;
const READ_ONLY = new Set(['cmp', 'test', 'push', 'bt']);
const KEEPS_FLAGS = new Set(['mov', 'movzx', 'lea', 'nop', 'push', 'pop']);
const NEGATE: Record<string, string> = { e: 'ne', ne: 'e', b: 'ae', ae: 'b', be: 'a', a: 'be', l: 'ge', ge: 'l', le: 'g', g: 'le' };

function sameOperand(a: Operand, b: Operand): boolean {
  if (a.kind === 'reg' && b.kind === 'reg') return registerFamily(a.reg) === registerFamily(b.reg);
  if (a.kind === 'mem' && b.kind === 'mem') return a.base === b.base && a.index === b.index && a.disp === b.disp && a.target === b.target;
  return false;
}

function isReg(insn: Insn, name: string): boolean {
  const dst = insn.operands[0];
  return dst?.kind === 'reg' && dst.reg === name;
}

/**
 * Byte-scans code sections for `opcode` (then a ModRM accepted by `modrm`, when given),
 * allowing one REX prefix on x64, and keeps the candidates the decoder confirms.
 */
function confirmed(
  model: CodeModel,
  opcode: readonly number[],
  modrm: ((byte: number) => boolean) | undefined,
  accept: (insn: Insn) => boolean,
): Array<{ code: FunctionCode; index: number; write: PrivilegedWrite }> {
  const out: Array<{ code: FunctionCode; index: number; write: PrivilegedWrite }> = [];
  const seen = new Set<number>();
  const need = opcode.length + (modrm ? 1 : 0);
  const [first, ...rest] = opcode as [number, ...number[]];
  for (const { rva, bytes } of model.codeSections()) {
    // indexOf (native) finds the first opcode byte; the rest is checked by hand.
    for (let i = bytes.indexOf(first); i >= 0 && i + need <= bytes.length; i = bytes.indexOf(first, i + 1)) {
      if (!rest.every((b, k) => bytes[i + 1 + k] === b)) continue;
      if (modrm && !modrm(bytes[i + opcode.length] as number)) continue;
      const prev = i > 0 ? (bytes[i - 1] as number) : -1;
      const start = model.bitness === 64 && prev >= 0x40 && prev <= 0x4f ? rva + i - 1 : rva + i;
      const fn: CodeFunction | undefined = model.functions.containing(start);
      if (!fn || seen.has(start) || model.image.dataRanges.contains(start) || !isReached(model, fn)) continue;
      const code = model.code(fn);
      const index = code.indexOf.get(start);
      const insn = index === undefined ? undefined : code.insns[index];
      if (index === undefined || !insn || !accept(insn)) continue;
      seen.add(start);
      const write: PrivilegedWrite = {
        rva: start,
        function: functionName(fn),
        functionRva: fn.start,
        text: model.format(start),
        context: code.insns.slice(Math.max(0, index - CONTEXT), index).map((b) => ({ rva: b.rva, text: model.format(b.rva) })),
      };
      out.push({ code, index, write });
    }
  }
  return out;
}
