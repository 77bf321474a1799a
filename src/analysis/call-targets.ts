/**
 * Where an indirect call's target pointer comes from. Compilers reach a function pointer
 * kept in image memory in several ways; each gives the memory the pointer is read from:
 *   call [rip+X] / x86 call [X]                          memory X
 *   mov rax,[rip+X]; call rax                            memory X (the load is `via`)
 *   call [r9+rax] with r9 = lea X, rax = 8*idx (imul)    memory X + 8*idx
 *   mov rax,[rip+G]; call [rax+off]                      memory [value of G] + off
 *   mov rax,<any of those>; call [__guard_dispatch_icall_fptr]
 *        x64 Control Flow Guard: the real target travels in RAX to the dispatch routine,
 *        whose pointer's address the load config names (GuardCFDispatchFunctionPointer).
 * The x86 CFG check (`call [__guard_check_icall_fptr]`) is not a call of the target; the
 * real `call reg` follows it and is handled as an ordinary register call.
 */
import type { CodeModel, FunctionCode } from './code-model.js';
import { resolveBefore, type Value } from './dataflow.js';
import { type Insn, type MemoryOperand, registerFamily } from './decoder.js';
import type { CodeFunction } from './functions.js';

export type PointerSource =
  /** The pointer is read from the image at `rva`. */
  | { kind: 'memory'; rva: number; via?: number }
  /** The pointer is read from (the value of the global at `globalRva`) + `offset`. */
  | { kind: 'through-global'; globalRva: number; offset: number; via?: number };

const ALL = 0xffffffffffffffffn;
const RAX = 0;
/** Most combinations of base and index values tried for one memory operand. */
const MAX_COMBINATIONS = 16;

/** RVA of the x64 CFG dispatch pointer (load config GuardCFDispatchFunctionPointer), if any. */
export function guardDispatchRva(model: CodeModel): number | undefined {
  const va = model.image.loadConfig?.guardDispatchFunctionPointer;
  if (model.bitness !== 64 || va === undefined || va < model.imageBase) return undefined;
  const rva = va - model.imageBase;
  return rva < BigInt(model.image.optionalHeader.sizeOfImage) ? Number(rva) : undefined;
}

/** True when the instruction is the x64 CFG dispatch call (`call [__guard_dispatch_icall_fptr]`). */
export function isGuardDispatch(insn: Insn, dispatchRva: number | undefined): boolean {
  const op = insn.operands[0];
  return dispatchRva !== undefined && op?.kind === 'mem' && op.target === dispatchRva;
}

/**
 * Where an indirect call or jump finds its target just before it runs: in a register (RAX
 * for the CFG dispatch call), or read from a memory operand. Undefined for other instructions.
 */
export function targetOperand(insn: Insn, dispatchRva: number | undefined): { fam: number } | { mem: MemoryOperand } | undefined {
  if (insn.flow !== 'call-indirect' && insn.flow !== 'jmp-indirect') return undefined;
  if (isGuardDispatch(insn, dispatchRva)) return { fam: RAX };
  const op = insn.operands[0];
  if (op?.kind === 'mem') return { mem: op };
  if (op?.kind === 'reg' && registerFamily(op.reg) >= 0) return { fam: registerFamily(op.reg) };
  return undefined;
}

/**
 * Every place the target pointer of the indirect call (or jump) at `index` may be read
 * from; empty when none is an image location or a global-relative one.
 */
export function pointerSources(model: CodeModel, code: FunctionCode, index: number, dispatchRva?: number): PointerSource[] {
  const insn = code.insns[index];
  const target = insn ? targetOperand(insn, dispatchRva) : undefined;
  if (!target) return [];
  return 'mem' in target ? memorySources(model, code, index, target.mem) : fromRegister(model, code, index, target.fam);
}

/** Each indirect call or jump in `functions`, with the places its target pointer may come from. */
export function* indirectCallSources(
  model: CodeModel,
  functions: Iterable<CodeFunction>,
): Generator<{ code: FunctionCode; insn: Insn; sources: PointerSource[] }> {
  const dispatch = guardDispatchRva(model);
  for (const fn of functions) {
    const code = model.code(fn);
    for (let i = 0; i < code.insns.length; i++) {
      const insn = code.insns[i] as Insn;
      if (insn.flow === 'call-indirect' || insn.flow === 'jmp-indirect') yield { code, insn, sources: pointerSources(model, code, i, dispatch) };
    }
  }
}

/** The pointer is in a register: find the load that put it there. */
function fromRegister(model: CodeModel, code: FunctionCode, index: number, fam: number): PointerSource[] {
  const out: PointerSource[] = [];
  for (const v of resolveBefore(model, code, index, { k: 'reg', fam })) {
    const load = model.firstLoad(v.trace);
    if (v.origin.kind === 'global' && plain(v)) {
      out.push(load === undefined ? { kind: 'memory', rva: v.origin.rva } : { kind: 'memory', rva: v.origin.rva, via: load });
      continue;
    }
    // Loaded through a register (the walk then stops where that register was set): the
    // load is the latest traced `mov reg, [base+index*scale+disp]`.
    if (v.origin.kind !== 'unknown') continue;
    for (let t = v.trace.length - 1; t >= 0; t--) {
      const at = code.indexOf.get(v.trace[t] as number);
      const loadInsn = at === undefined ? undefined : code.insns[at];
      const src = loadInsn?.operands[1];
      if (at === undefined || loadInsn?.mnemonic !== 'mov' || src?.kind !== 'mem' || src.target !== undefined) continue;
      for (const s of memorySources(model, code, at, src)) out.push({ ...s, via: loadInsn.rva });
      break;
    }
  }
  return out;
}

/** The addresses a memory operand may denote at instruction `index`. */
export function memorySources(model: CodeModel, code: FunctionCode, index: number, mem: MemoryOperand, budget?: number): PointerSource[] {
  if (mem.target !== undefined) return [{ kind: 'memory', rva: mem.target }];
  const bits = model.bitness === 64 ? 64 : 32;
  const parts = (reg: string | undefined): Value[] => {
    if (reg === undefined) return [constValue(0n)];
    const fam = registerFamily(reg);
    return fam < 0 ? [] : resolveBefore(model, code, index, { k: 'reg', fam }, budget === undefined ? {} : { budget });
  };
  const bases = parts(mem.base);
  const indexes = parts(mem.index);
  const out: PointerSource[] = [];
  let tried = 0;
  for (const b of bases) {
    for (const i of indexes) {
      if (++tried > MAX_COMBINATIONS) return out;
      const iv = i.origin.kind === 'const' && plain(i) ? i.origin.value : undefined;
      if (iv === undefined) continue;
      const constPart = BigInt.asUintN(bits, BigInt(mem.disp) + iv * BigInt(mem.scale || 1));
      const source = combine(model, b, constPart, bits);
      if (source) out.push(source);
    }
  }
  return out;
}

/** base value + a constant: an image address, or an offset from a global's value. */
function combine(model: CodeModel, base: Value, add: bigint, bits: number): PointerSource | undefined {
  if (!plain(base)) return undefined;
  const o = base.origin;
  if (o.kind === 'global') {
    const source: PointerSource = { kind: 'through-global', globalRva: o.rva, offset: Number(BigInt.asIntN(bits, add)) };
    const load = model.firstLoad(base.trace);
    return load === undefined ? source : { ...source, via: load };
  }
  let rva: bigint | undefined;
  if (o.kind === 'address') rva = BigInt(o.rva) + BigInt.asIntN(bits, add);
  else if (o.kind === 'const') rva = BigInt.asUintN(bits, o.value + add) - model.imageBase;
  if (rva === undefined || rva < 0n || rva >= BigInt(model.image.optionalHeader.sizeOfImage)) return undefined;
  return { kind: 'memory', rva: Number(rva) };
}

function plain(v: Value): boolean {
  return v.andMask === ALL && v.orBits === 0n && !v.merged;
}

function constValue(value: bigint): Value {
  return { origin: { kind: 'const', value }, andMask: ALL, orBits: 0n, trace: [] };
}
