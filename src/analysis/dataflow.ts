/**
 * Backward data flow inside one function: what value does a register or stack slot hold
 * just before a given instruction? The walk follows every path back to the function entry
 * (a value that differs by branch gives one result per path), understands constants
 * (`mov`, `xor r,r`, `or`, `and`), register copies, stack slots (`push`, `mov [rsp+..]`,
 * frame pointers) and loads from image globals, and stops at the function's parameters so
 * callers can be examined (wrapper summaries).
 */
import { ARM64_X0, BP, type Insn, type MemoryOperand, type Operand, registerFamily, registerSize, SP } from './decoder.js';
import type { CodeModel, FunctionCode } from './code-model.js';
import type { CodeFunction } from './functions.js';
import { argumentLocation, parameterAtEntry, returnFamily, volatileFamilies } from './calling-convention.js';
import { ALL, type Condition, compose, constant, describe, finish, globalLoad, type Location, locKey, orValues, param, sizeMask, type Transform, unknown, type Value, valueKey } from './value-algebra.js';
import { conditionHolds, equalityTested, flagsOfCmp, flagsOfTest, KEEPS_FLAGS, NTDDI_WIN10, ntddiConstant } from './version-flags.js';

export type { Condition, Location, Origin, Value } from './value-algebra.js';
export { argumentLocation } from './calling-convention.js';

/** The reason of an unknown value that is a call's return value (rax/eax just after the call). */
export const RETURN_VALUE = 'return value of a call';
/** Instructions whose first operand is only read. */
const READS_ONLY = new Set(['cmp', 'cmn', 'test', 'cbz', 'cbnz', 'tbz', 'tbnz', 'msr', 'push', 'bt', 'ucomiss', 'comiss', 'nop', 'prefetchnta', 'prefetcht0', 'clflush', 'invlpg', 'verr', 'verw']);
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

/** What an instruction does to the tracked location, read backwards. */
type Step =
  | { kind: 'pass' }
  /** The location's value before the instruction lives at `loc`, then (x & and) | or. */
  | { kind: 'move'; loc: Location; and?: bigint; or?: bigint; traced: boolean }
  | { kind: 'done'; value: Value }
  /** A small set of constants (setcc gives 0 or 1; sbb r,r gives 0 or -1). */
  | { kind: 'choice'; values: bigint[]; held?: boolean[] }
  /** cmov: either `loc` (the condition held; a global's value for `cmovcc r, [global]`) or the unchanged location. */
  | { kind: 'fork'; loc: Location | Value; traced: boolean; other?: Location | Value }
  /** rax/eax after a call into the image: the callee's return values. */
  | { kind: 'returns'; callee: CodeFunction }
  /** Arithmetic on another location's value (lea r,[b+d]; add r,imm): constants fold, the rest is unknown. */
  | { kind: 'derive'; loc: Location; apply: (x: bigint) => bigint; what: string }
  /** `or r, x` with a non-constant x: the location's earlier value | x's value. */
  | { kind: 'merge'; loc: Location; other: Location | Value };

export interface ResolveOptions {
  /** Maximum instructions examined for one query. */
  budget?: number;
  /**
   * Bytes of the value the caller needs (default: the whole register). With 1, a byte write
   * such as `mov dl, 1` (a KPROCESSOR_MODE argument) decides the value instead of ending the walk.
   */
  bytes?: number;
  /** Calls into the image already followed to get here (their return values are followed up to MAX_CALL_DEPTH). */
  callDepth?: number;
}

/**
 * Every value `loc` may hold just before instruction `index` of `code` executes. One entry
 * per distinct path result (deduplicated); `unknown` where the walk cannot tell.
 */
export function resolveBefore(model: CodeModel, code: FunctionCode, index: number, loc: Location, options: ResolveOptions = {}): Value[] {
  const budget = options.budget ?? 4000;
  const ctx = new Walker(model, code, budget, options.bytes ?? 8, options.callDepth ?? 0);
  const walked = ctx.walk(index, loc, { and: ALL, or: 0n }, [], []);
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
  /**
   * Instruction indices already walked, per tracked location and transform. A string key per step
   * (two BigInts printed each time) was most of the walk on large functions: the location and
   * transform change only where an instruction touches them, so their set is looked up once then.
   */
  private readonly visited = new Map<string, Set<number>>();
  private lastLoc: Location | undefined;
  private lastTransform: Transform | undefined;
  private lastVisited = new Set<number>();
  private readonly entryIndex: number;
  private readonly ptr: number;
  /** Register family of a call's return value (rax, ARM64 x0). */
  private readonly returnFam: number;

  constructor(
    private readonly model: CodeModel,
    private readonly code: FunctionCode,
    budget: number,
    private readonly bytes: number,
    private readonly callDepth: number,
    /** Records version conditions (off for the walker's own look-ups, which must not recurse into more). */
    private readonly tracksConditions = true,
  ) {
    this.budget = budget;
    this.entryIndex = code.indexOf.get(code.fn.start) ?? 0;
    this.ptr = model.pointerSize;
    this.returnFam = returnFamily(model.arch);
  }

  /** First visit of instruction `p` with this location and transform (false: a loop, this path adds nothing new). */
  private firstVisit(p: number, loc: Location, t: Transform): boolean {
    if (loc !== this.lastLoc || t !== this.lastTransform) {
      const key = `${locKey(loc)}|${t.and}|${t.or}`;
      let set = this.visited.get(key);
      if (!set) this.visited.set(key, (set = new Set()));
      this.lastLoc = loc;
      this.lastTransform = t;
      this.lastVisited = set;
    }
    if (this.lastVisited.has(p)) return false;
    this.lastVisited.add(p);
    return true;
  }

  walk(index: number, start: Location, startTransform: Transform, startTrace: number[], startConds: Condition[]): Value[] {
    let idx = index;
    let loc = start;
    let t = startTransform;
    let trace = startTrace;
    let conds = startConds;
    for (;;) {
      if (this.budget-- <= 0) return [finish(unknown('too many paths to follow'), t, trace, conds)];
      if (idx === this.entryIndex) return [finish(this.atEntry(loc), t, trace, conds)];
      const preds = this.code.preds.get(idx);
      const from = preds ?? [idx - 1];
      if (from.length === 0 || idx <= 0 && !preds) return [finish(unknown('code reached only indirectly (no known predecessor)'), t, trace, conds)];
      if (from.length > 1) {
        const out: Value[] = [];
        for (const p of from) {
          if (!this.firstVisit(p, loc, t)) continue; // a loop: this path adds nothing new
          const edge = this.edge(p, idx, loc);
          if (edge?.fact) {
            out.push(finish(edge.fact, t, [...edge.fact.trace, ...trace], conds));
            continue;
          }
          out.push(...this.stepFrom(p, loc, t, trace, edge?.cond ? [...conds, edge.cond] : conds));
        }
        return out;
      }
      const p = from[0] as number;
      if (!this.firstVisit(p, loc, t)) return []; // a loop: this path adds nothing new
      const edge = this.edge(p, idx, loc);
      if (edge?.fact) return [finish(edge.fact, t, [...edge.fact.trace, ...trace], conds)];
      if (edge?.cond) conds = [...conds, edge.cond];
      const insn = this.code.insns[p] as Insn;
      const step = this.effect(insn, loc);
      if (step.kind === 'pass') {
        idx = p;
        continue;
      }
      if (step.kind === 'done') return [finish(step.value, t, [...step.value.trace, ...trace], [...this.controlConditions(p), ...conds])];
      if (step.kind !== 'move') return this.stepFrom(p, loc, t, trace, conds, step);
      idx = p;
      loc = step.loc;
      if (step.and !== undefined || step.or !== undefined) t = compose(step.and ?? ALL, step.or ?? 0n, t);
      if (step.traced) trace = [insn.rva, ...trace];
      if (t.and === 0n) return [finish({ origin: { kind: 'const', value: 0n }, andMask: ALL, orBits: 0n, trace: [] }, t, trace, conds)];
    }
  }

  /**
   * Applies instruction `p` (read backwards) and walks on from there. Each branch point
   * recurses once, so the depth is bounded: a function with thousands of branches (a big
   * switch) gives "too many branches" for that path instead of overflowing the stack.
   */
  private stepFrom(p: number, loc: Location, t: Transform, trace: number[], conds: Condition[], forked?: Step): Value[] {
    if (this.depth >= MAX_DEPTH) return [finish(unknown('too many branches to follow'), t, trace, conds)];
    this.depth++;
    try {
      return this.applyStep(p, loc, t, trace, conds, forked);
    } finally {
      this.depth--;
    }
  }

  private applyStep(p: number, loc: Location, t: Transform, trace: number[], conds: Condition[], forked?: Step): Value[] {
    const insn = this.code.insns[p] as Insn;
    const step = forked ?? this.effect(insn, loc);
    switch (step.kind) {
      case 'pass':
        return this.walk(p, loc, t, trace, conds);
      case 'done':
        return [finish(step.value, t, [...step.value.trace, ...trace], [...this.controlConditions(p), ...conds])];
      case 'fork': {
        // cmovcc: the source when the condition held, the old value when it did not
        // (ARM64 csel: its second source, `other`, when it did not).
        const moved = this.versionCondition(p, true);
        const kept = this.versionCondition(p, false);
        const movedConds = moved ? [...conds, moved] : conds;
        const keptConds = kept ? [...conds, kept] : conds;
        const arm = (source: Location | Value, cs: Condition[]): Value[] =>
          'origin' in source ? [finish(source, t, [...source.trace, ...trace], cs)] : this.walk(p, source, t, step.traced ? [insn.rva, ...trace] : trace, cs);
        return [...arm(step.loc, movedConds), ...(step.other ? arm(step.other, keptConds) : this.walk(p, loc, t, trace, keptConds))];
      }
      case 'choice':
        return step.values.map((c, i) => {
          const held = step.held?.[i];
          const cond = held === undefined ? undefined : this.versionCondition(p, held);
          return finish(constant(c, []), t, [insn.rva, ...trace], cond ? [...conds, cond] : conds);
        });
      case 'returns':
        return this.returnValues(p, step.callee, t, trace, conds);
      case 'derive':
        return this.walk(p, step.loc, { and: ALL, or: 0n }, [], []).map((v) =>
          v.origin.kind === 'const'
            ? finish(constant(step.apply(v.origin.value) & ALL, []), t, [...v.trace, insn.rva, ...trace], [...(v.conditions ?? []), ...conds])
            : finish(unknown(`computed by ${step.what} from ${describe(v)}`), t, [...v.trace, insn.rva, ...trace], [...(v.conditions ?? []), ...conds]),
        );
      case 'merge': {
        const id = { and: ALL, or: 0n };
        const others = 'origin' in step.other ? [step.other] : this.walk(p, step.other, id, [], []);
        const mains = this.walk(p, step.loc, id, [], []);
        const out: Value[] = [];
        for (const a of mains.slice(0, MAX_MERGE)) {
          for (const b of others.slice(0, MAX_MERGE)) {
            const v = orValues(a, b);
            out.push(finish(v, t, [...v.trace, insn.rva, ...trace], conds));
          }
        }
        return out;
      }
      case 'move': {
        const t2 = step.and !== undefined || step.or !== undefined ? compose(step.and ?? ALL, step.or ?? 0n, t) : t;
        return this.walk(p, step.loc, t2, step.traced ? [insn.rva, ...trace] : trace, conds);
      }
    }
  }

  /**
   * rax after `call sub_x` (instruction `p`): the values sub_x returns, each `ret` of it walked
   * back (bounded depth). A returned parameter is the argument this call passes.
   */
  private returnValues(p: number, callee: CodeFunction, t: Transform, trace: number[], conds: Condition[]): Value[] {
    const insn = this.code.insns[p] as Insn;
    const calleeCode = this.model.code(callee);
    const rets = calleeCode.insns.flatMap((x, i) => (x.flow === 'ret' ? [i] : []));
    if (rets.length === 0 || rets.length > MAX_RETURNS) {
      return [finish(unknown(`${RETURN_VALUE} (sub_${callee.start.toString(16)}: ${rets.length === 0 ? 'no ret' : 'too many ret instructions'})`, [insn.rva]), t, [insn.rva, ...trace], conds)];
    }
    const out: Value[] = [];
    for (const r of rets) {
      const inner = new Walker(this.model, calleeCode, Math.min(this.budget, CALLEE_BUDGET), 8, this.callDepth + 1);
      const before = inner.budget;
      const returned = inner.walk(r, { k: 'reg', fam: this.returnFam }, { and: ALL, or: 0n }, [], []);
      this.budget -= before - inner.budget; // the helper's walk counts against this query
      for (const v of returned) {
        const vc = [...(v.conditions ?? []), ...conds];
        if (v.origin.kind === 'param') {
          // The helper returns its own parameter: what this call passes.
          const arg = argumentLocation(this.model.arch, v.origin.index, undefined, this.ptr);
          const inside = { and: v.andMask, or: v.orBits };
          for (const a of this.walk(p, arg, { and: ALL, or: 0n }, [], [])) {
            const passed = finish(a, inside, [...a.trace, ...v.trace], [...(a.conditions ?? []), ...(v.conditions ?? [])]);
            out.push(finish(passed, t, [...passed.trace, insn.rva, ...trace], [...(passed.conditions ?? []), ...conds]));
          }
        } else {
          out.push(finish(v, t, [...v.trace, insn.rva, ...trace], vc));
        }
      }
    }
    return out;
  }

  /**
   * What the edge from instruction `p` to instruction `to` tells. Only conditional jumps
   * tell anything: on the edge where `test x, x` / `cmp x, k` found x equal (to 0 / k), a
   * tracked x is that constant (a fact), provided nothing wrote x between the test and the
   * jump; and an edge of a Windows-version test is recorded as a condition.
   */
  private edge(p: number, to: number, loc: Location): { fact?: Value; cond?: Condition } | undefined {
    const jcc = this.code.insns[p];
    if (!jcc || jcc.flow !== 'jcc') return undefined;
    const target = jcc.operands[0]?.kind === 'branch' ? jcc.operands[0].target : undefined;
    const toRva = this.code.insns[to]?.rva;
    const taken = target === toRva;
    const fallThrough = p + 1 === to;
    if (taken === fallThrough) return undefined; // a jump to the next instruction, or not this edge
    if (jcc.mnemonic === 'cbz' || jcc.mnemonic === 'cbnz') {
      // ARM64 compare-and-branch: on the edge where the register is zero, it (and the slot it was just loaded from) is 0.
      const reg = jcc.operands[1];
      const zero = (jcc.mnemonic === 'cbz') === taken;
      return zero && reg?.kind === 'reg' && this.testedHere(reg, p, p, loc) ? { fact: constant(0n, [jcc.rva]) } : undefined;
    }
    // Other ARM64 register tests (tbz/tbnz) say nothing about the flags a cmp set.
    if (!jcc.mnemonic.startsWith('j')) return undefined;
    const cc = jcc.mnemonic.slice(1);
    const test = this.flagSetter(p);
    if (!test) return undefined;
    const tested = equalityTested(test.insn);
    if (tested && (cc === 'e' || cc === 'z' || cc === 'ne' || cc === 'nz')) {
      const equal = (cc === 'e' || cc === 'z') === taken;
      if (equal && this.testedHere(tested.op, test.index, p, loc)) {
        return { fact: constant(tested.value, [test.insn.rva, jcc.rva]) };
      }
    }
    const cond = this.versionCondition(p, taken);
    return cond ? { cond } : undefined;
  }

  /**
   * The version test that decides whether instruction `index` runs at all: the nearest
   * conditional jump above it with nothing joining in between (the arms of an if/else that
   * set a value after the branch). Empty when that jump is not a version test.
   */
  private controlConditions(index: number): Condition[] {
    let idx = index;
    for (let n = 0; n < CONTROL_LOOKBACK && idx !== this.entryIndex; n++) {
      const preds = this.code.preds.get(idx);
      const from = preds ?? [idx - 1];
      const p = from[0];
      if (from.length !== 1 || p === undefined || p < 0) return [];
      if (this.code.insns[p]?.flow === 'jcc') {
        const e = this.edge(p, idx, { k: 'reg', fam: -1 });
        return e?.cond ? [e.cond] : [];
      }
      idx = p;
    }
    return [];
  }

  /**
   * Whether the operand the test at `testIndex` compared is the tracked location when the
   * jump at `p` runs: the location itself, untouched since (not when the test wrote it: ARM64
   * `subs w8, w8, #4`), or on ARM64 the stack slot the compared register was loaded from by
   * the instruction just before the test, with only the test in between.
   */
  private testedHere(op: Operand, testIndex: number, p: number, loc: Location): boolean {
    const test = this.code.insns[testIndex] as Insn;
    const testWrites = test.mnemonic === 'subs' && test.operands[0]?.kind === 'reg' && op.kind === 'reg' && registerFamily(test.operands[0].reg) === registerFamily(op.reg);
    if (!testWrites && this.sameLocation(op, loc) && this.untouched(op, testIndex, p)) return true;
    if (this.model.arch !== 'arm64' || op.kind !== 'reg' || loc.k !== 'mem' || p > testIndex + 1) return false;
    const load = this.code.insns[testIndex - 1];
    const preds = this.code.preds.get(testIndex);
    const dst = load?.operands[0];
    const src = load?.operands[1];
    if (!load || (preds && (preds.length !== 1 || preds[0] !== testIndex - 1)) || (load.mnemonic !== 'mov' && load.mnemonic !== 'movzx')) return false;
    if (dst?.kind !== 'reg' || registerFamily(dst.reg) !== registerFamily(op.reg) || src?.kind !== 'mem' || load.writeback !== undefined) return false;
    const where = this.memLocation(src);
    return where !== undefined && where !== 'global' && where.k === 'mem' && where.base === loc.base && where.off === loc.off && where.size >= loc.size;
  }

  /** Nothing between instructions `from` and `to` (exclusive) writes `op` (a memory operand: nothing at all runs between). */
  private untouched(op: Operand, from: number, to: number): boolean {
    if (op.kind !== 'reg') return to === from + 1;
    const fam = registerFamily(op.reg);
    for (let i = from + 1; i < to; i++) {
      const x = this.code.insns[i] as Insn;
      const dst = x.operands[0];
      if (dst?.kind === 'reg' && registerFamily(dst.reg) === fam && !READS_ONLY.has(x.mnemonic)) return false;
      if (x.mnemonic === 'xchg' && x.operands[1]?.kind === 'reg' && registerFamily((x.operands[1] as { reg: string }).reg) === fam) return false;
      if (IMPLICIT_MAP.get(x.mnemonic)?.includes(fam)) return false;
    }
    return true;
  }

  /** Does the operand `op` name the tracked location, all of it? */
  private sameLocation(op: Operand, loc: Location): boolean {
    if (op.kind === 'reg') {
      return loc.k === 'reg' && registerFamily(op.reg) === loc.fam && registerSize(op.reg) >= Math.min(4, this.bytes);
    }
    if (op.kind !== 'mem' || loc.k !== 'mem') return false;
    const where = this.memLocation(op);
    if (!where || where === 'global' || where.k !== 'mem') return false;
    // Between the test and the jump only flag readers run (flagSetter), so the stack has not moved.
    return where.base === loc.base && where.off === loc.off && where.size >= loc.size;
  }

  /** The cmp/test whose flags instruction `p` reads: the nearest earlier one in the same block. */
  private flagSetter(p: number): { insn: Insn; index: number } | undefined {
    for (let i = p - 1; i >= 0 && i >= p - FLAG_LOOKBACK; i--) {
      const insn = this.code.insns[i] as Insn;
      if (insn.mnemonic === 'cmp' || insn.mnemonic === 'test') return { insn, index: i };
      // ARM64 `ands d, n, #imm` sets the flags as `tst n, #imm` does, `subs d, n, #imm` as `cmp n, #imm`.
      if (insn.mnemonic === 'ands' && insn.operands.length === 3) return { insn: { ...insn, mnemonic: 'test', operands: insn.operands.slice(1) }, index: i };
      if (insn.mnemonic === 'subs' && insn.operands.length === 3) return { insn: { ...insn, mnemonic: 'cmp', operands: insn.operands.slice(1) }, index: i };
      if (!KEEPS_FLAGS.has(insn.mnemonic) && !insn.mnemonic.startsWith('set') && !insn.mnemonic.startsWith('cmov')) return undefined;
      const preds = this.code.preds.get(i);
      if (preds && (preds.length !== 1 || preds[0] !== i - 1)) return undefined; // a join: flags may come from elsewhere
    }
    return undefined;
  }

  /**
   * The Windows-version test instruction `p` (setcc, cmovcc, sbb, jcc) chose on, for the
   * path where its condition `held`; undefined when the flags do not come from one.
   */
  private versionCondition(p: number, held: boolean): Condition | undefined {
    if (!this.tracksConditions) return undefined;
    const choice = this.code.insns[p] as Insn;
    const test = this.flagSetter(p);
    if (!test) return undefined;
    const [a, operand] = test.insn.operands;
    if (!a || !operand) return undefined;
    // ARM64 compares with a register that holds the constant (cmp's immediate has 12 bits).
    const b = operand.kind === 'reg' && this.model.arch === 'arm64' ? (this.constantIn(test.index, operand.reg) ?? operand) : operand;
    // A comparison with a version constant (NTDDI_*): the compared value is not known here.
    if (test.insn.mnemonic === 'cmp' && b.kind === 'imm') {
      const ntddi = ntddiConstant(this.unshifted(test.index, a, b.value));
      if (ntddi !== undefined) return { rva: choice.rva, testRva: test.insn.rva, held, version: `NTDDI 0x${ntddi.toString(16)}` };
    }
    // The result of a version API (a BOOLEAN in al/eax): tested with test r,r or cmp r,k.
    const reg = a.kind === 'reg' ? a : undefined;
    if (!reg) return undefined;
    // `test r, r`, or ARM64's `tst w0, #0xff` on a BOOLEAN: both ask whether it is non-zero.
    const testsItself = (b.kind === 'reg' && b.reg === reg.reg) || (b.kind === 'imm' && (b.value & 0xffn) === 0xffn);
    const k = test.insn.mnemonic === 'test' ? (testsItself ? undefined : null) : b.kind === 'imm' ? b.value : null;
    if (k === null) return undefined;
    const api = this.versionApi(test.index, registerFamily(reg.reg));
    if (!api) return undefined;
    const cond: Condition = { rva: choice.rva, testRva: test.insn.rva, held, version: `${api.name}(0x${api.ntddi.toString(16)})` };
    // Which side TRUE (1) takes: the condition code evaluated on the flags 1 gives.
    const cc = choice.mnemonic === 'sbb' ? 'b' : choice.mnemonic.replace(/^(set|cmov|j)/, '');
    const holds = conditionHolds(cc, k === undefined ? flagsOfTest(1n) : flagsOfCmp(1n, k));
    if (holds === undefined) return cond;
    cond.api = { name: api.name, ntddi: api.ntddi, returnedTrue: holds === held };
    // RtlIsNtDdiVersionAvailable(v) is TRUE on every Windows at or above v; Memory Integrity
    // exists from Windows 10 (NTDDI_WIN10) on, so for v <= NTDDI_WIN10 it is TRUE there. For a
    // later release the answer depends on the oldest Windows the driver supports (rules/call-site-rule.ts).
    if (api.ntddi <= NTDDI_WIN10) cond.onHvci = holds === held;
    return cond;
  }

  /**
   * The constant a compare means for the unshifted value: ARM64 clang tests `v >= 0x0A000000`
   * as `lsr w8, v, #25; cmp w8, #4; cset hi` — (k + 1) << 25, less one, as x86's `cmp v, 0x9ffffff; seta`.
   */
  private unshifted(testIndex: number, compared: Operand, k: bigint): bigint {
    const shift = this.code.insns[testIndex - 1];
    const [dst, , immr, imms] = shift?.operands ?? [];
    const preds = this.code.preds.get(testIndex);
    if (shift?.mnemonic !== 'ubfm' || (preds && (preds.length !== 1 || preds[0] !== testIndex - 1))) return k;
    if (compared.kind !== 'reg' || dst?.kind !== 'reg' || registerFamily(dst.reg) !== registerFamily(compared.reg) || immr?.kind !== 'imm' || imms?.kind !== 'imm') return k;
    const width = BigInt(registerSize(dst.reg) * 8);
    if (imms.value !== width - 1n) return k; // not lsr
    return ((k + 1n) << immr.value) - 1n;
  }

  /** The one constant register `reg` holds before instruction `index`, as an immediate operand. */
  private constantIn(index: number, reg: string): Operand | undefined {
    const fam = registerFamily(reg);
    if (fam < 0) return undefined;
    const values = new Walker(this.model, this.code, 50, 8, MAX_CALL_DEPTH, false).walk(index, { k: 'reg', fam }, { and: ALL, or: 0n }, [], []);
    const only = values.length === 1 ? values[0] : undefined;
    return only?.origin.kind === 'const' ? { kind: 'imm', value: only.origin.value & sizeMask(registerSize(reg)) } : undefined;
  }

  /** The version API whose return value register family `fam` holds before instruction `index`. */
  private versionApi(index: number, fam: number): { name: string; ntddi: number } | undefined {
    if (fam !== this.returnFam) return undefined;
    let cached = VERSION_API_CACHE.get(this.code);
    if (!cached) VERSION_API_CACHE.set(this.code, (cached = new Map()));
    if (cached.has(index)) return cached.get(index) ?? undefined;
    const found = this.findVersionApi(index);
    cached.set(index, found ?? null);
    return found;
  }

  private findVersionApi(index: number): { name: string; ntddi: number } | undefined {
    const values = new Walker(this.model, this.code, 200, 8, MAX_CALL_DEPTH, false).walk(index, { k: 'reg', fam: this.returnFam }, { and: ALL, or: 0n }, [], []);
    if (values.length !== 1) return undefined;
    const v = values[0] as Value;
    const callRva = v.origin.kind === 'unknown' && v.origin.reason === RETURN_VALUE ? v.trace[0] : undefined;
    const ci = callRva === undefined ? undefined : this.code.indexOf.get(callRva);
    if (ci === undefined) return undefined;
    const call = this.code.insns[ci] as Insn;
    const op = call.operands[0];
    let slot: number | undefined;
    if (op?.kind === 'mem' && op.target !== undefined) slot = op.target;
    if (op?.kind === 'reg') {
      const via = new Walker(this.model, this.code, 200, 8, MAX_CALL_DEPTH, false).walk(ci, { k: 'reg', fam: registerFamily(op.reg) }, { and: ALL, or: 0n }, [], []);
      if (via.length === 1 && via[0]?.origin.kind === 'global') slot = via[0].origin.rva;
    }
    const name = slot === undefined ? undefined : this.model.importSlots.get(slot)?.name;
    if (name !== 'RtlIsNtDdiVersionAvailable') return undefined;
    const arg = new Walker(this.model, this.code, 400, 8, MAX_CALL_DEPTH, false).walk(ci, argumentLocation(this.model.arch, 1), { and: ALL, or: 0n }, [], []);
    if (arg.length !== 1 || arg[0]?.origin.kind !== 'const') return undefined;
    return { name, ntddi: Number(arg[0].origin.value & 0xffffffffn) };
  }

  private atEntry(loc: Location): Value {
    const n = parameterAtEntry(this.model.arch, loc);
    if (n !== undefined) return param(n);
    if (loc.k === 'reg') return unknown('register value at function entry');
    return unknown(this.model.arch === 'x86' ? 'memory value at function entry' : 'stack value at function entry');
  }

  /** The effect of `insn` on `loc`, read backwards. */
  private effect(insn: Insn, loc: Location): Step {
    const ops = insn.operands;
    const m = insn.mnemonic;
    const isCall = insn.flow === 'call' || insn.flow === 'call-indirect';
    if (loc.k === 'reg') {
      if (isCall) {
        if (!volatileFamilies(this.model.arch).has(loc.fam)) return { kind: 'pass' };
        if (this.isArm64GuardCheck(insn) && ARM64_GUARD_PRESERVES.has(loc.fam)) return { kind: 'pass' };
        const returned = loc.fam === this.returnFam;
        const callee = returned && this.callDepth < MAX_CALL_DEPTH ? this.directCallee(insn) : undefined;
        if (callee) return { kind: 'returns', callee };
        return { kind: 'done', value: unknown(returned ? RETURN_VALUE : 'register clobbered by a call', [insn.rva]) };
      }
      if (insn.writeback !== undefined) {
        const mem = ops.find((o): o is MemoryOperand => o.kind === 'mem');
        const data = ops[0]?.kind === 'reg' && registerFamily(ops[0].reg) === loc.fam;
        if (mem?.base !== undefined && registerFamily(mem.base) === loc.fam && !data) {
          return { kind: 'done', value: unknown('pointer register advanced by a pre/post-indexed access', [insn.rva]) };
        }
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
        if (m === 'ldp' && ops[1]?.kind === 'reg' && registerFamily(ops[1].reg) === loc.fam) return this.pairLoad(insn, 1);
        if (m === 'pop' && dst?.kind === 'reg' && registerFamily(dst.reg) === loc.fam) return this.popInto();
        return { kind: 'pass' };
      }
      return this.writeReg(insn, dst.reg, ops[1]);
    }
    return this.memEffect(insn, loc);
  }

  /**
   * ARM64 CFG: `blr x16` just after x16 is loaded from __guard_check_icall_fptr checks the
   * target in x15 and keeps the argument registers x0–x8 and x15 (the call through x15 follows).
   */
  private isArm64GuardCheck(insn: Insn): boolean {
    if (this.model.arch !== 'arm64' || insn.flow !== 'call-indirect') return false;
    const check = this.model.guardCheckRva;
    const i = this.code.indexOf.get(insn.rva);
    const load = i === undefined ? undefined : this.code.insns[i - 1];
    const via = insn.operands[0];
    const src = load?.operands[1];
    const dst = load?.operands[0];
    return check !== undefined && load?.mnemonic === 'mov' && src?.kind === 'mem' && src.target === check && dst?.kind === 'reg' && via?.kind === 'reg' && dst.reg === via.reg;
  }

  /** The image function a direct `call` enters (not the function itself: recursion gives nothing new). */
  private directCallee(insn: Insn): CodeFunction | undefined {
    const op = insn.operands[0];
    if (insn.flow !== 'call' || op?.kind !== 'branch') return undefined;
    const fn = this.model.functions.at(op.target);
    return fn && fn.start !== this.code.fn.start ? fn : undefined;
  }

  private popInto(): Step {
    return { kind: 'move', loc: { k: 'mem', base: SP, off: 0, size: this.ptr }, traced: true };
  }

  /**
   * ARM64 forms with a separate source register: `orr/and d, n, #imm` (n's value, masked),
   * `orr d, n, m` (n | m), and the bitfield moves `ubfm`/`sbfm` (lsl, lsr, asr, uxtb, sxtw, ubfx…)
   * whose constant inputs fold.
   */
  private arm64ThreeOperand(insn: Insn, size: number): Step | undefined {
    const [, n, third, fourth] = insn.operands;
    const m = insn.mnemonic;
    if (insn.operands.length < 3) return undefined;
    if (m.startsWith('cmov') && n && third) {
      // ARM64 csel d, n, m, cc: n when cc held, else m (the zero register reads as 0).
      const source = (o: Operand): Location | Value =>
        o.kind === 'reg' && registerFamily(o.reg) >= 0 ? { k: 'reg', fam: registerFamily(o.reg) } : o.kind === 'imm' ? constant(o.value, [insn.rva]) : unknown(`computed by ${m}`, [insn.rva]);
      return { kind: 'fork', loc: source(n), other: source(third), traced: true };
    }
    if (n?.kind !== 'reg') return undefined;
    const from = registerFamily(n.reg);
    if (from < 0) return undefined;
    const mask = sizeMask(size);
    const narrow = registerSize(n.reg) < 8 ? sizeMask(registerSize(n.reg)) : ALL;
    if (m === 'or' && third?.kind === 'imm') return { kind: 'move', loc: { k: 'reg', fam: from }, and: mask & narrow, or: third.value, traced: true };
    if ((m === 'subs' || m === 'adds') && third?.kind === 'imm') {
      const d = m === 'subs' ? -third.value : third.value;
      return { kind: 'derive', loc: { k: 'reg', fam: from }, apply: (x) => (x + d) & mask, what: m };
    }
    if ((m === 'and' || m === 'ands') && third?.kind === 'imm') return { kind: 'move', loc: { k: 'reg', fam: from }, and: third.value & mask & narrow, traced: true };
    if (m === 'or' && third?.kind === 'reg' && registerFamily(third.reg) >= 0) {
      return { kind: 'merge', loc: { k: 'reg', fam: from }, other: { k: 'reg', fam: registerFamily(third.reg) } };
    }
    if ((m === 'ubfm' || m === 'sbfm') && third?.kind === 'imm' && fourth?.kind === 'imm') {
      const width = size * 8;
      const apply = (x: bigint) => bitfieldMove(x, Number(third.value), Number(fourth.value), width, m === 'sbfm');
      return { kind: 'derive', loc: { k: 'reg', fam: from }, apply, what: m };
    }
    return undefined;
  }

  /** ARM64 ldp: register `k` (0 or 1) of the pair is loaded from the second half or the first. */
  private pairLoad(insn: Insn, k: number): Step {
    const mem = insn.operands[2];
    if (mem?.kind !== 'mem') return { kind: 'done', value: unknown('computed by ldp', [insn.rva]) };
    const half = mem.size / 2;
    const part: MemoryOperand = { ...mem, disp: mem.disp + k * half, size: half };
    if (mem.target !== undefined) part.target = mem.target + k * half;
    return this.fromOperand(insn, part, half);
  }

  /** `insn` writes register `reg` (the tracked family). */
  private writeReg(insn: Insn, reg: string, src: Operand | undefined): Step {
    const m = insn.mnemonic;
    const size = registerSize(reg);
    const fam = registerFamily(reg);
    if (m === 'ldp') return this.pairLoad(insn, 0);
    const arm64 = this.arm64ThreeOperand(insn, size);
    if (arm64) return arm64;
    if (m === 'movk') {
      // ARM64 movk: a 16-bit field replaced, the rest kept (a 32-bit write clears the top half).
      const field = insn.operands[2];
      if (src?.kind === 'imm' && field?.kind === 'imm') return { kind: 'move', loc: { k: 'reg', fam }, and: sizeMask(size) & ~field.value, or: src.value, traced: true };
    }
    if (m === 'pop') return this.popInto();
    if (m.startsWith('set') && isRegisterDestination(insn)) return { kind: 'choice', values: [0n, 1n], held: [false, true] };
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
          if (where === 'global') return { kind: 'merge', loc: { k: 'reg', fam }, other: globalLoad(src.target as number, src.size || size, ...addressTrace(insn)) };
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
          if (src.target !== undefined) return { kind: 'done', value: { origin: { kind: 'address', rva: src.target }, andMask: ALL, orBits: 0n, trace: addressTrace(insn) } };
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
        if (src?.kind === 'reg' && registerFamily(src.reg) === fam) return { kind: 'choice', values: [0n, sizeMask(size)], held: [false, true] };
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
        if (m.startsWith('cmov') && src?.kind === 'mem') {
          const where = this.memLocation(src);
          if (where === 'global') return { kind: 'fork', loc: globalLoad(src.target as number, src.size || size, ...addressTrace(insn)), traced: true };
          if (where) return { kind: 'fork', loc: where, traced: true };
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
      if (loc === 'global') return { kind: 'done', value: globalLoad(src.target as number, src.size || size, ...addressTrace(insn)) };
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
    if (insn.writeback !== undefined) {
      const mem = ops.find((o): o is MemoryOperand => o.kind === 'mem');
      if (mem?.base !== undefined && registerFamily(mem.base) === loc.base) {
        // ARM64 pre/post-index: base after = base before + writeback, and the access is at base before + disp.
        const before = { ...loc, off: loc.off + insn.writeback };
        const stored = this.storeEffect(insn, before);
        return stored.kind === 'pass' ? { kind: 'move', loc: before, traced: false } : stored;
      }
    }
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
        if (this.model.arch === 'x64') {
          return loc.off < 0x20 ? { kind: 'done', value: unknown('home space overwritten by a call', [insn.rva]) } : { kind: 'pass' };
        }
        // ARM64 callees keep the caller's frame (no home space; outgoing arguments are read only).
        if (this.model.arch === 'arm64') return { kind: 'pass' };
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
        if (volatileFamilies(this.model.arch).has(loc.base)) return { kind: 'done', value: unknown('pointer register clobbered by a call', [insn.rva]) };
      }
    }
    return this.storeEffect(insn, loc);
  }

  /** A store to the tracked slot? */
  private storeEffect(insn: Insn, loc: Extract<Location, { k: 'mem' }>): Step {
    const ops = insn.operands;
    const m = insn.mnemonic;
    const ptr = this.ptr;
    const dst = ops[0];
    if (m === 'stp' && dst?.kind === 'mem' && dst.base !== undefined && dst.index === undefined && registerFamily(dst.base) === loc.base) {
      // ARM64 store pair: two registers to consecutive slots.
      const half = dst.size / 2;
      for (let k = 0; k < 2; k++) {
        const at = dst.disp + k * half;
        if (!(at < loc.off + loc.size && loc.off < at + half)) continue;
        if (at !== loc.off || half < loc.size) return { kind: 'done', value: unknown('partially overwritten', [insn.rva]) };
        return this.fromOperand(insn, ops[1 + k], half);
      }
      return { kind: 'pass' };
    }
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

/** A64 UBFM/SBFM on a `width`-bit register: the field [imms:immr] moved to the bottom, or bits [imms:0] moved up to width-immr. */
function bitfieldMove(x: bigint, immr: number, imms: number, width: number, signed: boolean): bigint {
  const mask = sizeMask(width / 8);
  let field: bigint;
  let length: number;
  if (imms >= immr) {
    length = imms - immr + 1;
    field = (x >> BigInt(immr)) & ((1n << BigInt(length)) - 1n);
  } else {
    length = imms + 1 + (width - immr);
    field = (x & ((1n << BigInt(imms + 1)) - 1n)) << BigInt(width - immr);
  }
  if (signed && length < width && ((field >> BigInt(length - 1)) & 1n) === 1n) field |= mask & ~((1n << BigInt(length)) - 1n);
  return field & mask;
}

/** The instructions that name an address: ARM64 adrp then the load/add that completes it; else the one instruction. */
function addressTrace(insn: Insn): number[] {
  return insn.pageRva !== undefined ? [insn.pageRva, insn.rva] : [insn.rva];
}

/** setcc writes a byte register: the value is 0 or 1. */
function isRegisterDestination(insn: Insn): boolean {
  return insn.operands[0]?.kind === 'reg';
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

/** versionApi answers per function and test instruction (a `test eax, eax` is asked about from many paths). */
const VERSION_API_CACHE = new WeakMap<FunctionCode, Map<number, { name: string; ntddi: number } | null>>();
/** Register families the ARM64 CFG check call keeps: x0–x8 and x15. */
const ARM64_GUARD_PRESERVES = new Set([...Array.from({ length: 9 }, (_, i) => ARM64_X0 + i), ARM64_X0 + 15]);
/** Instructions looked back from a value's definition for the branch that decides whether it runs. */
const CONTROL_LOOKBACK = 24;
/** Instructions looked back from a choice for the cmp/test that set its flags. */
const FLAG_LOOKBACK = 8;
/** Calls into the image whose return values are followed, nested. */
const MAX_CALL_DEPTH = 2;
/** A helper with more `ret` instructions than this is not followed. */
const MAX_RETURNS = 8;
/** Instructions examined inside one helper for one of its `ret`s. */
const CALLEE_BUDGET = 1500;

/** Nested branch points one query follows before giving up on that path (stack safety). */
const MAX_DEPTH = 200;

/** Most path results combined by one `or r, x` (each side), so a merge cannot explode. */
const MAX_MERGE = 8;

