/**
 * Backward data flow inside one function: what value does a register or stack slot hold
 * just before a given instruction? The walk follows every path back to the function entry
 * (a value that differs by branch gives one result per path), understands constants
 * (`mov`, `xor r,r`, `or`, `and`), register copies, stack slots (`push`, `mov [rsp+..]`,
 * frame pointers) and loads from image globals, and stops at the function's parameters so
 * callers can be examined (wrapper summaries).
 */
import { BP, type Insn, type MemoryOperand, type Operand, registerFamily, registerSize, SP } from './decoder.js';
import type { CodeModel, FunctionCode } from './code-model.js';

export type Origin =
  | { kind: 'const'; value: bigint }
  /** A parameter of the containing function (1-based), as received at its entry. */
  | { kind: 'param'; index: number }
  /** Loaded from image memory at `rva`. */
  | { kind: 'global'; rva: number; size: number }
  /** The address of something in the image (lea / push offset). */
  | { kind: 'address'; rva: number }
  | { kind: 'unknown'; reason: string };

export interface Value {
  origin: Origin;
  /** Applied after the origin: value = (origin & andMask) | orBits. Identity for constants (already folded). */
  andMask: bigint;
  orBits: bigint;
  /** RVAs of the instructions that produced the value, earliest first. */
  trace: number[];
  /**
   * Values OR'ed into this one that are not constants (`or ecx, [global]`): the full value
   * is this one | each of these. Constants are folded into `orBits` instead.
   */
  merged?: Value[];
}

/** Where a value lives: a general-purpose register family, or memory at [base + off]. */
export type Location = { k: 'reg'; fam: number } | { k: 'mem'; base: number; off: number; size: number };

const ALL = 0xffffffffffffffffn;
/** The reason of an unknown value that is a call's return value (rax/eax just after the call). */
export const RETURN_VALUE = 'return value of a call';
const VOLATILE_64 = new Set([0, 1, 2, 8, 9, 10, 11]);
const VOLATILE_32 = new Set([0, 1, 2]);
const X64_PARAM_REGS = [1, 2, 8, 9]; // rcx, rdx, r8, r9
/** Instructions whose first operand is only read. */
const READS_ONLY = new Set(['cmp', 'test', 'push', 'bt', 'ucomiss', 'comiss', 'nop', 'prefetchnta', 'prefetcht0', 'clflush', 'invlpg', 'verr', 'verw']);
/** Instructions that write registers they do not name: family → mnemonics. */
const IMPLICIT: ReadonlyArray<[string, number[]]> = [
  ['cdq', [2]],
  ['cqo', [2]],
  ['cwd', [2]],
  ['cdqe', [0]],
  ['cwde', [0]],
  ['cbw', [0]],
  ['mul', [0, 2]],
  ['div', [0, 2]],
  ['idiv', [0, 2]],
  ['cpuid', [0, 1, 2, 3]],
  ['rdtsc', [0, 2]],
  ['rdtscp', [0, 1, 2]],
  ['rdmsr', [0, 2]],
  ['xgetbv', [0, 2]],
  ['cmpxchg', [0]],
  ['lodsb', [0, 6]],
  ['lodsw', [0, 6]],
  ['lodsd', [0, 6]],
  ['lodsq', [0, 6]],
  ['stosb', [1, 7]],
  ['stosw', [1, 7]],
  ['stosd', [1, 7]],
  ['stosq', [1, 7]],
  ['movsb', [1, 6, 7]],
  ['movsw', [1, 6, 7]],
  ['movsd', [1, 6, 7]],
  ['movsq', [1, 6, 7]],
  ['scasb', [1, 7]],
  ['cmpsb', [1, 6, 7]],
  ['leave', [4, 5]],
  ['syscall', [1, 11]],
  ['in', [0]],
];
const IMPLICIT_MAP = new Map(IMPLICIT);
const HIGH_BYTE = new Set(['ah', 'bh', 'ch', 'dh']);

const unknown = (reason: string, trace: number[] = []): Value => ({ origin: { kind: 'unknown', reason }, andMask: ALL, orBits: 0n, trace });

function sizeMask(bytes: number): bigint {
  return bytes >= 8 || bytes <= 0 ? ALL : (1n << BigInt(bytes * 8)) - 1n;
}

function locKey(l: Location): string {
  return l.k === 'reg' ? `r${l.fam}` : `m${l.base}:${l.off}:${l.size}`;
}

/** What an instruction does to the tracked location, read backwards. */
type Step =
  | { kind: 'pass' }
  /** The location's value before the instruction lives at `loc`, then (x & and) | or. */
  | { kind: 'move'; loc: Location; and?: bigint; or?: bigint; traced: boolean }
  | { kind: 'done'; value: Value }
  /** A small set of constants (setcc gives 0 or 1; sbb r,r gives 0 or -1). */
  | { kind: 'choice'; values: bigint[] }
  /** cmov: either `loc` or the unchanged location. */
  | { kind: 'fork'; loc: Location; traced: boolean }
  /** Arithmetic on another location's value (lea r,[b+d]; add r,imm): constants fold, the rest is unknown. */
  | { kind: 'derive'; loc: Location; apply: (x: bigint) => bigint; what: string }
  /** `or r, x` with a non-constant x: the location's earlier value | x's value. */
  | { kind: 'merge'; loc: Location; other: Location | Value };

interface Transform {
  and: bigint;
  or: bigint;
}

export interface ResolveOptions {
  /** Maximum instructions examined for one query. */
  budget?: number;
  /**
   * Bytes of the value the caller needs (default: the whole register). With 1, a byte write
   * such as `mov dl, 1` (a KPROCESSOR_MODE argument) decides the value instead of ending the walk.
   */
  bytes?: number;
}

/**
 * Every value `loc` may hold just before instruction `index` of `code` executes. One entry
 * per distinct path result (deduplicated); `unknown` where the walk cannot tell.
 */
export function resolveBefore(model: CodeModel, code: FunctionCode, index: number, loc: Location, options: ResolveOptions = {}): Value[] {
  const budget = options.budget ?? 4000;
  const ctx = new Walker(model, code, budget, options.bytes ?? 8);
  const walked = ctx.walk(index, loc, { and: ALL, or: 0n }, []);
  model.budget.chargeFlowSteps(budget - Math.max(ctx.remaining, 0));
  const raw = walked.length > 0 ? walked : [unknown('value depends on a loop')];
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of raw) {
    const key = valueKey(v);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

class Walker {
  private budget: number;
  private depth = 0;
  get remaining(): number {
    return this.budget;
  }
  private readonly visited = new Set<string>();
  private readonly entryIndex: number;
  private readonly ptr: number;

  constructor(
    private readonly model: CodeModel,
    private readonly code: FunctionCode,
    budget: number,
    private readonly bytes: number,
  ) {
    this.budget = budget;
    this.entryIndex = code.indexOf.get(code.fn.start) ?? 0;
    this.ptr = model.pointerSize;
  }

  walk(index: number, start: Location, startTransform: Transform, startTrace: number[]): Value[] {
    let idx = index;
    let loc = start;
    let t = startTransform;
    let trace = startTrace;
    for (;;) {
      if (this.budget-- <= 0) return [finish(unknown('too many paths to follow'), t, trace)];
      if (idx === this.entryIndex) return [finish(this.atEntry(loc), t, trace)];
      const preds = this.code.preds.get(idx);
      const from = preds ?? [idx - 1];
      if (from.length === 0 || idx <= 0 && !preds) return [finish(unknown('code reached only indirectly (no known predecessor)'), t, trace)];
      if (from.length > 1) {
        const out: Value[] = [];
        for (const p of from) {
          const key = `${p}|${locKey(loc)}|${t.and}|${t.or}`;
          if (this.visited.has(key)) continue; // a loop: this path adds nothing new
          this.visited.add(key);
          out.push(...this.stepFrom(p, loc, t, trace));
        }
        return out;
      }
      const p = from[0] as number;
      const key = `${p}|${locKey(loc)}|${t.and}|${t.or}`;
      if (this.visited.has(key)) return []; // a loop: this path adds nothing new
      this.visited.add(key);
      const insn = this.code.insns[p] as Insn;
      const step = this.effect(insn, loc);
      if (step.kind === 'pass') {
        idx = p;
        continue;
      }
      if (step.kind === 'done') return [finish(step.value, t, [...step.value.trace, ...trace])];
      if (step.kind === 'fork' || step.kind === 'derive' || step.kind === 'choice' || step.kind === 'merge') return this.stepFrom(p, loc, t, trace, step);
      idx = p;
      loc = step.loc;
      if (step.and !== undefined || step.or !== undefined) t = compose(step.and ?? ALL, step.or ?? 0n, t);
      if (step.traced) trace = [insn.rva, ...trace];
      if (t.and === 0n) return [finish({ origin: { kind: 'const', value: 0n }, andMask: ALL, orBits: 0n, trace: [] }, t, trace)];
    }
  }

  /**
   * Applies instruction `p` (read backwards) and walks on from there. Each branch point
   * recurses once, so the depth is bounded: a function with thousands of branches (a big
   * switch) gives "too many branches" for that path instead of overflowing the stack.
   */
  private stepFrom(p: number, loc: Location, t: Transform, trace: number[], forked?: Step): Value[] {
    if (this.depth >= MAX_DEPTH) return [finish(unknown('too many branches to follow'), t, trace)];
    this.depth++;
    try {
      return this.applyStep(p, loc, t, trace, forked);
    } finally {
      this.depth--;
    }
  }

  private applyStep(p: number, loc: Location, t: Transform, trace: number[], forked?: Step): Value[] {
    const insn = this.code.insns[p] as Insn;
    const step = forked ?? this.effect(insn, loc);
    switch (step.kind) {
      case 'pass':
        return this.walk(p, loc, t, trace);
      case 'done':
        return [finish(step.value, t, [...step.value.trace, ...trace])];
      case 'fork':
        return [...this.walk(p, step.loc, t, step.traced ? [insn.rva, ...trace] : trace), ...this.walk(p, loc, t, trace)];
      case 'choice':
        return step.values.map((c) => finish(constant(c, []), t, [insn.rva, ...trace]));
      case 'derive':
        return this.walk(p, step.loc, { and: ALL, or: 0n }, []).map((v) =>
          v.origin.kind === 'const'
            ? finish(constant(step.apply(v.origin.value) & ALL, []), t, [...v.trace, insn.rva, ...trace])
            : finish(unknown(`computed by ${step.what} from ${describe(v)}`), t, [...v.trace, insn.rva, ...trace]),
        );
      case 'merge': {
        const id = { and: ALL, or: 0n };
        const others = 'origin' in step.other ? [step.other] : this.walk(p, step.other, id, []);
        const mains = this.walk(p, step.loc, id, []);
        const out: Value[] = [];
        for (const a of mains.slice(0, MAX_MERGE)) {
          for (const b of others.slice(0, MAX_MERGE)) {
            const v = orValues(a, b);
            out.push(finish(v, t, [...v.trace, insn.rva, ...trace]));
          }
        }
        return out;
      }
      case 'move': {
        const t2 = step.and !== undefined || step.or !== undefined ? compose(step.and ?? ALL, step.or ?? 0n, t) : t;
        return this.walk(p, step.loc, t2, step.traced ? [insn.rva, ...trace] : trace);
      }
    }
  }

  private atEntry(loc: Location): Value {
    if (this.model.bitness === 64) {
      if (loc.k === 'reg') {
        const i = X64_PARAM_REGS.indexOf(loc.fam);
        return i >= 0 ? param(i + 1) : unknown('register value at function entry');
      }
      if (loc.base === SP && loc.off >= 0x28 && (loc.off - 0x28) % 8 === 0) return param(5 + (loc.off - 0x28) / 8);
      return unknown('stack value at function entry');
    }
    if (loc.k === 'mem' && loc.base === SP && loc.off >= 4 && loc.off % 4 === 0) return param(loc.off / 4);
    return unknown(loc.k === 'reg' ? 'register value at function entry' : 'memory value at function entry');
  }

  /** The effect of `insn` on `loc`, read backwards. */
  private effect(insn: Insn, loc: Location): Step {
    const ops = insn.operands;
    const m = insn.mnemonic;
    const isCall = insn.flow === 'call' || insn.flow === 'call-indirect';
    if (loc.k === 'reg') {
      if (isCall) {
        const volatile = this.model.bitness === 64 ? VOLATILE_64 : VOLATILE_32;
        if (!volatile.has(loc.fam)) return { kind: 'pass' };
        return { kind: 'done', value: unknown(loc.fam === 0 ? RETURN_VALUE : 'register clobbered by a call', [insn.rva]) };
      }
      const implicit = IMPLICIT_MAP.get(m);
      if (implicit && implicit.includes(loc.fam) && !(m === 'mul' && ops.length > 1)) {
        return { kind: 'done', value: unknown(`set by ${m}`, [insn.rva]) };
      }
      if (m === 'xchg' || m === 'xadd') {
        const a = regOf(ops[0]);
        const b = regOf(ops[1]);
        if (a === loc.fam && b !== undefined) return { kind: 'move', loc: { k: 'reg', fam: b }, traced: true };
        if (b === loc.fam && a !== undefined) return { kind: 'move', loc: { k: 'reg', fam: a }, traced: true };
        if (a === loc.fam || b === loc.fam) return { kind: 'done', value: unknown(`exchanged by ${m}`, [insn.rva]) };
        return { kind: 'pass' };
      }
      const dst = ops[0];
      if (!dst || dst.kind !== 'reg' || registerFamily(dst.reg) !== loc.fam || READS_ONLY.has(m)) {
        if (m === 'pop' && dst?.kind === 'reg' && registerFamily(dst.reg) === loc.fam) return this.popInto();
        return { kind: 'pass' };
      }
      return this.writeReg(insn, dst.reg, ops[1]);
    }
    return this.memEffect(insn, loc);
  }

  private popInto(): Step {
    return { kind: 'move', loc: { k: 'mem', base: SP, off: 0, size: this.ptr }, traced: true };
  }

  /** `insn` writes register `reg` (the tracked family). */
  private writeReg(insn: Insn, reg: string, src: Operand | undefined): Step {
    const m = insn.mnemonic;
    const size = registerSize(reg);
    const fam = registerFamily(reg);
    if (m === 'pop') return this.popInto();
    if (m.startsWith('set') && isRegisterDestination(insn)) return { kind: 'choice', values: [0n, 1n] };
    if (size < 4 && (m === 'or' || m === 'and') && src?.kind === 'imm') {
      // `or ah, 4` sets bit 10 (POOL_ZERO_ALLOCATION at -O0); the rest of the register is kept.
      const shift = HIGH_BYTE.has(reg) ? 8n : 0n;
      const field = sizeMask(size) << shift;
      const bits = (src.value & sizeMask(size)) << shift;
      return m === 'or'
        ? { kind: 'move', loc: { k: 'reg', fam }, or: bits, traced: true }
        : { kind: 'move', loc: { k: 'reg', fam }, and: (ALL & ~field) | bits, traced: true };
    }
    if (size < 4 && m !== 'movzx' && m !== 'movsx') {
      // Only the low bytes matter to the caller: a byte/word mov sets all of them.
      if (m === 'mov' && size >= this.bytes) return this.fromOperand(insn, src, size);
      return { kind: 'done', value: unknown(`partial register write (${m} ${reg})`, [insn.rva]) };
    }
    switch (m) {
      case 'mov':
      case 'movzx':
      case 'movsx':
      case 'movsxd':
        return this.fromOperand(insn, src, size);
      case 'xor':
        if (src?.kind === 'reg' && registerFamily(src.reg) === fam) return { kind: 'done', value: constant(0n, [insn.rva]) };
        break;
      case 'or':
        if (src?.kind === 'imm') return { kind: 'move', loc: { k: 'reg', fam }, or: src.value, and: size === 4 ? 0xffffffffn : ALL, traced: true };
        if (src?.kind === 'reg' && registerFamily(src.reg) === fam) return { kind: 'move', loc: { k: 'reg', fam }, traced: false };
        if (src?.kind === 'reg' && registerFamily(src.reg) >= 0) return { kind: 'merge', loc: { k: 'reg', fam }, other: { k: 'reg', fam: registerFamily(src.reg) } };
        if (src?.kind === 'mem') {
          const where = this.memLocation(src);
          if (where === 'global') return { kind: 'merge', loc: { k: 'reg', fam }, other: globalLoad(src.target as number, src.size || size, insn.rva) };
          if (where) return { kind: 'merge', loc: { k: 'reg', fam }, other: where };
        }
        break;
      case 'imul': {
        // imul r, r/m, imm (iced always reports the three-operand form for an immediate).
        const [, from, imm] = insn.operands;
        const fromFam = from?.kind === 'reg' ? registerFamily(from.reg) : -1;
        if (imm?.kind === 'imm' && fromFam >= 0) {
          const mask = sizeMask(size);
          return { kind: 'derive', loc: { k: 'reg', fam: fromFam }, apply: (x) => (x * imm.value) & mask, what: m };
        }
        break;
      }
      case 'and':
        if (src?.kind === 'imm') return { kind: 'move', loc: { k: 'reg', fam }, and: src.value & sizeMask(size), traced: true };
        break;
      case 'bts':
      case 'btr':
        if (src?.kind === 'imm') {
          const bit = 1n << (src.value & BigInt(size * 8 - 1));
          return m === 'bts'
            ? { kind: 'move', loc: { k: 'reg', fam }, or: bit, and: sizeMask(size), traced: true }
            : { kind: 'move', loc: { k: 'reg', fam }, and: sizeMask(size) & ~bit, traced: true };
        }
        break;
      case 'lea':
        if (src?.kind === 'mem') {
          if (src.target !== undefined) return { kind: 'done', value: { origin: { kind: 'address', rva: src.target }, andMask: ALL, orBits: 0n, trace: [insn.rva] } };
          const base = src.base !== undefined ? registerFamily(src.base) : -1;
          if (base >= 0 && src.index === undefined && src.disp === 0) return { kind: 'move', loc: { k: 'reg', fam: base }, traced: true };
          if (base >= 0 && base !== SP && src.index === undefined) {
            const d = BigInt(src.disp);
            const mask = sizeMask(size);
            return { kind: 'derive', loc: { k: 'reg', fam: base }, apply: (x) => (x + d) & mask, what: 'lea' };
          }
          if (base === SP || base === BP) return { kind: 'done', value: unknown('address of a local variable', [insn.rva]) };
        }
        break;
      case 'add':
      case 'sub':
        if (m === 'sub' && src?.kind === 'reg' && registerFamily(src.reg) === fam) return { kind: 'done', value: constant(0n, [insn.rva]) };
        if (src?.kind === 'imm') {
          const d = m === 'add' ? src.value : -src.value;
          const mask = sizeMask(size);
          return { kind: 'derive', loc: { k: 'reg', fam }, apply: (x) => (x + d) & mask, what: m };
        }
        break;
      case 'sbb':
        if (src?.kind === 'reg' && registerFamily(src.reg) === fam) return { kind: 'choice', values: [0n, sizeMask(size)] };
        break;
      case 'shl':
      case 'sal':
      case 'shr':
        if (src?.kind === 'imm') {
          const n = src.value & 63n;
          const mask = sizeMask(size);
          return { kind: 'derive', loc: { k: 'reg', fam }, apply: (x) => (m === 'shr' ? (x & mask) >> n : (x << n) & mask), what: m };
        }
        break;
      case 'neg': {
        const mask = sizeMask(size);
        return { kind: 'derive', loc: { k: 'reg', fam }, apply: (x) => -x & mask, what: m };
      }
      case 'inc':
      case 'dec': {
        const d = m === 'inc' ? 1n : -1n;
        const mask = sizeMask(size);
        return { kind: 'derive', loc: { k: 'reg', fam }, apply: (x) => (x + d) & mask, what: m };
      }
      default:
        if (m.startsWith('cmov') && src?.kind === 'reg' && registerFamily(src.reg) >= 0) {
          return { kind: 'fork', loc: { k: 'reg', fam: registerFamily(src.reg) }, traced: true };
        }
    }
    return { kind: 'done', value: unknown(`computed by ${m}`, [insn.rva]) };
  }

  /** The value of a source operand (mov/push), as a step. */
  private fromOperand(insn: Insn, src: Operand | undefined, size: number): Step {
    if (!src) return { kind: 'done', value: unknown('no source operand', [insn.rva]) };
    if (src.kind === 'imm') return { kind: 'done', value: constant(src.value & sizeMask(size), [insn.rva]) };
    if (src.kind === 'reg') {
      const fam = registerFamily(src.reg);
      if (fam < 0) return { kind: 'done', value: unknown(`copied from ${src.reg}`, [insn.rva]) };
      const narrow = registerSize(src.reg) < 8 ? { and: sizeMask(registerSize(src.reg)) } : {};
      return { kind: 'move', loc: { k: 'reg', fam }, ...narrow, traced: true };
    }
    if (src.kind === 'mem') {
      const loc = this.memLocation(src);
      if (loc === 'global') return { kind: 'done', value: globalLoad(src.target as number, src.size || size, insn.rva) };
      if (loc) return { kind: 'move', loc, traced: true };
      return { kind: 'done', value: unknown(`loaded through a pointer (${describeMem(src)})`, [insn.rva]) };
    }
    return { kind: 'done', value: unknown('unsupported operand', [insn.rva]) };
  }

  private memLocation(mem: MemoryOperand): Location | 'global' | undefined {
    if (mem.target !== undefined) return 'global';
    if (mem.base === undefined || mem.index !== undefined) return undefined;
    const base = registerFamily(mem.base);
    if (base < 0) return undefined;
    return { k: 'mem', base, off: mem.disp, size: mem.size || this.ptr };
  }

  private memEffect(insn: Insn, loc: Extract<Location, { k: 'mem' }>): Step {
    const ops = insn.operands;
    const m = insn.mnemonic;
    const ptr = this.ptr;
    const isCall = insn.flow === 'call' || insn.flow === 'call-indirect';
    if (loc.base === SP) {
      if (m === 'push') {
        const size = ops[0]?.kind === 'mem' ? ops[0].size || ptr : ops[0]?.kind === 'reg' ? Math.max(registerSize(ops[0].reg), 2) : ptr;
        if (loc.off === 0 && loc.size <= size) return this.pushed(insn, ops[0], size);
        if (loc.off < size) return { kind: 'done', value: unknown('part of a pushed value', [insn.rva]) };
        return { kind: 'move', loc: { ...loc, off: loc.off - size }, traced: false };
      }
      if (m === 'pop') return { kind: 'move', loc: { ...loc, off: loc.off + ptr }, traced: false };
      const dstFam = ops[0]?.kind === 'reg' ? registerFamily(ops[0].reg) : -1;
      if (dstFam === SP && !READS_ONLY.has(m)) {
        const src = ops[1];
        if ((m === 'sub' || m === 'add') && src?.kind === 'imm') {
          const n = Number(BigInt.asIntN(64, src.value));
          const off = m === 'sub' ? loc.off - n : loc.off + n;
          if (off < 0) return { kind: 'done', value: unknown('stack slot written by no instruction before its use', [insn.rva]) };
          return { kind: 'move', loc: { ...loc, off }, traced: false };
        }
        if (m === 'mov' && src?.kind === 'reg' && registerFamily(src.reg) >= 0) {
          return { kind: 'move', loc: { ...loc, base: registerFamily(src.reg) }, traced: false };
        }
        if (m === 'lea' && src?.kind === 'mem' && src.base !== undefined && src.index === undefined) {
          return { kind: 'move', loc: { ...loc, base: registerFamily(src.base), off: loc.off + src.disp }, traced: false };
        }
        return { kind: 'done', value: unknown(`stack pointer changed by ${m}`, [insn.rva]) };
      }
      if (isCall) {
        if (this.model.bitness === 64) {
          return loc.off < 0x20 ? { kind: 'done', value: unknown('home space overwritten by a call', [insn.rva]) } : { kind: 'pass' };
        }
        const cleanup = this.calleeCleanup(insn);
        if (cleanup === undefined) return { kind: 'done', value: unknown('stack depth across a call is unknown', [insn.rva]) };
        // stdcall callees pop their arguments: sp after the call = sp before + cleanup.
        return { kind: 'move', loc: { ...loc, off: loc.off + cleanup }, traced: false };
      }
      if (m === 'leave') return { kind: 'done', value: unknown('stack frame torn down', [insn.rva]) };
    } else {
      // A frame or pointer base: follow it back through its own definition.
      const dst = ops[0];
      if (dst?.kind === 'reg' && registerFamily(dst.reg) === loc.base && !READS_ONLY.has(m)) {
        const src = ops[1];
        if (m === 'mov' && src?.kind === 'reg' && registerFamily(src.reg) >= 0) {
          return { kind: 'move', loc: { ...loc, base: registerFamily(src.reg) }, traced: false };
        }
        if (m === 'lea' && src?.kind === 'mem' && src.base !== undefined && src.index === undefined) {
          return { kind: 'move', loc: { ...loc, base: registerFamily(src.base), off: loc.off + src.disp }, traced: false };
        }
        return { kind: 'done', value: unknown('pointer register changed', [insn.rva]) };
      }
      if (m === 'pop' && dst?.kind === 'reg' && registerFamily(dst.reg) === loc.base) {
        return { kind: 'done', value: unknown('frame register restored', [insn.rva]) };
      }
      if (isCall && loc.base !== BP) {
        const volatile = this.model.bitness === 64 ? VOLATILE_64 : VOLATILE_32;
        if (volatile.has(loc.base)) return { kind: 'done', value: unknown('pointer register clobbered by a call', [insn.rva]) };
      }
    }
    // A store to the tracked slot?
    const dst = ops[0];
    if (dst?.kind === 'mem' && !READS_ONLY.has(m) && dst.base !== undefined && dst.index === undefined && registerFamily(dst.base) === loc.base) {
      const dsize = dst.size || ptr;
      const overlaps = dst.disp < loc.off + loc.size && loc.off < dst.disp + dsize;
      if (!overlaps) return { kind: 'pass' };
      if (dst.disp !== loc.off || dsize < loc.size) return { kind: 'done', value: unknown('partially overwritten', [insn.rva]) };
      const src = ops[1];
      if (m === 'mov') return this.fromOperand(insn, src, dsize);
      if (m === 'and' && src?.kind === 'imm') return { kind: 'move', loc, and: src.value & sizeMask(dsize), traced: true };
      if (m === 'or' && src?.kind === 'imm') return { kind: 'move', loc, or: src.value, traced: true };
      return { kind: 'done', value: unknown(`computed by ${m}`, [insn.rva]) };
    }
    return { kind: 'pass' };
  }

  private pushed(insn: Insn, op: Operand | undefined, size: number): Step {
    if (op?.kind === 'mem' && op.base !== undefined && registerFamily(op.base) === SP) {
      // push [esp+n] reads the slot before esp moves.
      return { kind: 'move', loc: { k: 'mem', base: SP, off: op.disp, size }, traced: true };
    }
    if (op?.kind === 'imm') {
      const v = op.value & sizeMask(size);
      // push offset X: an image address when it relocates into the image.
      const rva = v - this.model.imageBase;
      if (this.model.bitness === 32 && rva > 0n && rva < BigInt(this.model.image.optionalHeader.sizeOfImage)) {
        return { kind: 'done', value: { origin: { kind: 'address', rva: Number(rva) }, andMask: ALL, orBits: 0n, trace: [insn.rva] } };
      }
    }
    return this.fromOperand(insn, op, size);
  }

  /** Bytes an x86 callee pops on return (stdcall `ret n`), when the callee is known. */
  private calleeCleanup(insn: Insn): number | undefined {
    const op = insn.operands[0];
    if (op?.kind !== 'branch') return undefined;
    const fn = this.model.functions.at(op.target);
    if (!fn) return undefined;
    const code = this.model.code(fn);
    let cleanup: number | undefined;
    for (const i of code.insns) {
      if (i.flow !== 'ret') continue;
      const imm = i.operands[0];
      const n = imm?.kind === 'imm' ? Number(imm.value) : 0;
      if (cleanup !== undefined && cleanup !== n) return undefined;
      cleanup = n;
    }
    return cleanup;
  }
}

/** setcc writes a byte register: the value is 0 or 1. */
function isRegisterDestination(insn: Insn): boolean {
  return insn.operands[0]?.kind === 'reg';
}

function describe(v: Value): string {
  const o = v.origin;
  return o.kind === 'param' ? `parameter ${o.index}` : o.kind === 'global' ? `global 0x${o.rva.toString(16)}` : o.kind === 'unknown' ? o.reason : o.kind;
}

function regOf(op: Operand | undefined): number | undefined {
  if (op?.kind !== 'reg') return undefined;
  const f = registerFamily(op.reg);
  return f >= 0 ? f : undefined;
}

function describeMem(mem: MemoryOperand): string {
  const parts = [mem.base, mem.index ? `${mem.index}*${mem.scale}` : undefined].filter((x) => x !== undefined);
  const disp = mem.disp === 0 ? '' : mem.disp < 0 ? `-0x${(-mem.disp).toString(16)}` : `+0x${mem.disp.toString(16)}`;
  return `[${parts.join('+')}${disp}]`;
}

function constant(value: bigint, trace: number[]): Value {
  return { origin: { kind: 'const', value }, andMask: ALL, orBits: 0n, trace };
}

function param(index: number): Value {
  return { origin: { kind: 'param', index }, andMask: ALL, orBits: 0n, trace: [] };
}

/** Earlier op (x & a) | o, followed by the later transform t. */
function compose(a: bigint, o: bigint, t: Transform): Transform {
  return { and: a & t.and, or: (o & t.and) | t.or };
}

/** Applies the transform collected on the way back; folds constants. */
function finish(v: Value, t: Transform, trace: number[]): Value {
  const and = v.andMask & t.and;
  const or = (v.orBits & t.and) | t.or;
  if (v.origin.kind === 'const' && !v.merged) {
    const value = ((v.origin.value & t.and) | t.or) & ALL;
    return { origin: { kind: 'const', value }, andMask: ALL, orBits: 0n, trace };
  }
  const out: Value = { origin: v.origin, andMask: and, orBits: or, trace };
  // A later `and` masks the merged parts too; a later `or` is already in orBits.
  if (v.merged) out.merged = v.merged.map((m) => finish(m, { and: t.and, or: 0n }, m.trace));
  return out;
}

/** Nested branch points one query follows before giving up on that path (stack safety). */
const MAX_DEPTH = 200;

/** Most path results combined by one `or r, x` (each side), so a merge cannot explode. */
const MAX_MERGE = 8;

/** a | b: constants fold into the other side's orBits; two unknown sides are kept as a merge. */
function orValues(a: Value, b: Value): Value {
  const trace = [...a.trace, ...b.trace];
  if (a.origin.kind === 'const' && !a.merged && b.origin.kind === 'const' && !b.merged) return constant(a.origin.value | b.origin.value, trace);
  if (b.origin.kind === 'const' && !b.merged) return { ...a, orBits: a.orBits | b.origin.value, trace };
  if (a.origin.kind === 'const' && !a.merged) return { ...b, orBits: b.orBits | a.origin.value, trace };
  const { merged: bMerged, ...bOwn } = b;
  return { ...a, merged: [...(a.merged ?? []), bOwn, ...(bMerged ?? [])], trace };
}

function globalLoad(rva: number, size: number, at: number): Value {
  return { origin: { kind: 'global', rva, size }, andMask: ALL, orBits: 0n, trace: [at] };
}

function valueKey(v: Value): string {
  const own = `${JSON.stringify(v.origin, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}|${v.andMask}|${v.orBits}`;
  return v.merged ? `${own}|${v.merged.map(valueKey).join('+')}` : own;
}

/** Where argument `n` (1-based) is at a call: x64 rcx, rdx, r8, r9, then [rsp+0x20+8*(n-5)]; x86 [esp+offset]. */
export function argumentLocation(bitness: 32 | 64, n: number, x86Offset?: number, size = 4): Location {
  if (bitness === 64) {
    if (n <= 4) return { k: 'reg', fam: X64_PARAM_REGS[n - 1] as number };
    return { k: 'mem', base: SP, off: 0x20 + 8 * (n - 5), size: Math.min(size, 8) };
  }
  return { k: 'mem', base: SP, off: x86Offset ?? 4 * (n - 1), size: Math.min(size, 4) };
}
