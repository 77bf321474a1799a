/**
 * Proves each call to an API of the table (rule book §2): finds the call, recovers the
 * deciding argument by backward data flow, follows it into callers when it comes from the
 * enclosing function's own parameter (wrappers), and judges every value that reaches the
 * call. A value executable on any path makes the call executable.
 */
import { type ApiArgument, type ContextArgument, apiSpec, API_TABLE, type ApiSpec, executability } from './api-table.js';
import { saferValue, symbolic } from './windows-values.js';
import { hex } from '../pe/index.js';
import { findImportCallSites, functionsReferencing, type ImportCallSite, scanDirectBranches } from './call-sites.js';
import { type CodeModel, codeModelOf, type FunctionCode, type Unsupported } from './code-model.js';
import { argumentLocation, type Condition, type Location, resolveBefore, type Value } from './dataflow.js';
import { type CodeFunction, functionName } from './functions.js';
import { alwaysFix, argumentFix } from './call-fixes.js';
import { detectNxOptIn, type NxOptIn } from './nx-optin.js';
import { findRoutineLookups, type RoutineLookup } from './dynamic-lookup.js';
import { findGlobalPointerCallSites, findStoredPointers } from './global-pointers.js';
import { registerFamily } from './decoder.js';
import { findKmdfCallSites } from './kmdf.js';

export type { ValueVerdict, EvidenceInstruction, PathStep, ResolvedValue, ValueCondition, CallVerdict, CallContext, CheckedCall, CallAnalysis } from './call-types.js';
import type { EvidenceInstruction, PathStep, ResolvedValue, ValueCondition, CallContext, CheckedCall, CallAnalysis } from './call-types.js';

const MAX_WRAPPER_DEPTH = 3;
const MAX_CALLERS = 24;

const cache = new WeakMap<object, CallAnalysis | Unsupported>();

/**
 * Call-site analysis of an image (cached per image); "unsupported" for non-x86/x64 machines.
 * Uses the image's shared code model: call releaseCodeModel(image) when done (analyze() does).
 */
export function analyzeCalls(image: Parameters<typeof codeModelOf>[0]): CallAnalysis | Unsupported {
  let result = cache.get(image);
  if (!result) {
    const model = codeModelOf(image);
    result = 'supported' in model ? model : new CallAnalyzer(model).run();
    cache.set(image, result);
  }
  return result;
}

/** Class A and D APIs: the ones whose calls are checked (class N calls are only noted, execute-default-api). */
const TABLE_NAMES = new Set(API_TABLE.filter((s) => s.cls !== 'N').map((s) => s.name));

class CallAnalyzer {
  private readonly callersCache = new Map<number, Array<{ code: FunctionCode; index: number; tail: boolean }>>();
  private nxOptIn: NxOptIn | undefined;

  constructor(private readonly model: CodeModel) {}

  run(): CallAnalysis {
    this.nxOptIn = detectNxOptIn(this.model);
    const lookups = findRoutineLookups(this.model);
    const stored = findStoredPointers(this.model, this.model.importSlots, lookups, TABLE_NAMES);
    const sites = [
      ...findImportCallSites(this.model, { apis: TABLE_NAMES }),
      ...this.dynamicSites(lookups),
      ...findKmdfCallSites(this.model, TABLE_NAMES),
      ...findGlobalPointerCallSites(this.model, stored),
    ];
    const calls: CheckedCall[] = [];
    for (const site of sites) {
      const spec = apiSpec(site.slot.name);
      if (spec && spec.cls !== 'N') calls.push(this.check(site, spec));
    }
    const out: CallAnalysis = { supported: true, machine: this.model.arch, calls };
    if (this.nxOptIn) out.nxOptIn = this.nxOptIn;
    return out;
  }

  /**
   * Calls through a pointer that MmGetSystemRoutineAddress returned for a table API, in the
   * function that looked it up (`fp = MmGetSystemRoutineAddress(&name); fp(...)`).
   */
  private dynamicSites(lookups: readonly RoutineLookup[]): ImportCallSite[] {
    const out: ImportCallSite[] = [];
    for (const lookup of lookups) {
      const spec = lookup.name !== undefined ? apiSpec(lookup.name) : undefined;
      const fn = this.model.functions.containing(lookup.callRva);
      if (!spec || spec.cls === 'N' || !fn) continue;
      const code = this.model.code(fn);
      code.insns.forEach((insn, i) => {
        if ((insn.flow !== 'call-indirect' && insn.flow !== 'jmp-indirect') || insn.rva <= lookup.callRva) return;
        const op = insn.operands[0];
        const fam = op?.kind === 'reg' ? registerFamily(op.reg) : -1;
        if (fam < 0) return;
        const fromLookup = resolveBefore(this.model, code, i, { k: 'reg', fam }).some(
          (v) => v.origin.kind === 'unknown' && v.trace[0] === lookup.callRva,
        );
        if (!fromLookup) return;
        out.push({
          slot: { dll: 'MmGetSystemRoutineAddress', name: spec.name, delayLoaded: false, rva: lookup.nameRva ?? 0 },
          callRva: insn.rva,
          fn,
          form: 'dynamic',
          viaRva: lookup.callRva,
          tail: insn.flow === 'jmp-indirect',
        });
      });
    }
    return out;
  }

  private check(site: ImportCallSite, spec: ApiSpec): CheckedCall {
    const model = this.model;
    const code = model.code(site.fn);
    const call: CheckedCall = {
      api: spec.name,
      dll: site.slot.dll,
      cls: spec.cls,
      rule: spec.rule,
      callRva: site.callRva,
      function: functionName(site.fn),
      functionRva: site.fn.start,
      form: site.form,
      verdict: 'compatible',
      values: [],
      callText: this.callText(site),
      fix: '',
    };
    const offset = model.fileOffset(site.callRva);
    if (offset !== undefined) call.fileOffset = offset;
    const section = model.image.space.sectionAt(site.callRva);
    if (section) call.section = section.name;
    if (site.viaRva !== undefined) call.viaRva = site.viaRva;
    if (spec.name === 'MmMapLockedPagesSpecifyCache' && this.isInlineMdlSafe(code, site.callRva)) call.inline = 'MmGetSystemAddressForMdlSafe';

    if (spec.cls === 'D' || !spec.arg) {
      call.verdict = 'executable';
      call.alwaysExecutable = true;
      call.severity = spec.always ?? 'error';
      call.fix = alwaysFix(spec.name);
      return call;
    }
    const arg = spec.arg;
    call.argument = arg;
    const index = code.indexOf.get(site.callRva);
    if (index === undefined) {
      call.values = [{ verdict: 'unresolved', origin: 'unknown', reason: 'call instruction not decoded', instructions: [], path: [] }];
    } else {
      const step: PathStep = { function: call.function, functionRva: call.functionRva, callRva: site.callRva };
      call.values = this.evaluate(code, index, this.argLocation(arg.index, arg, site.tail), arg, [step], 0);
    }
    // A value only a Windows without Memory Integrity can produce does not count (see README).
    const live = call.values.filter((v) => !neverOnHvci(v));
    const judged = live.length > 0 ? live : call.values;
    const verdicts = new Set(judged.map((v) => v.verdict));
    call.verdict = verdicts.has('executable') ? 'executable' : verdicts.has('unresolved') ? 'unresolved' : 'compatible';
    const choice = call.verdict === 'executable' ? versionChoice(judged) : undefined;
    if (choice) {
      call.verdict = 'unresolved';
      call.versionChoice = choice;
    }
    if (call.verdict === 'executable') call.severity = 'error';
    else if (call.verdict === 'unresolved') call.severity = 'warning';
    if (call.verdict === 'executable' && spec.context && index !== undefined) {
      const context = this.context(code, index, site.tail, spec.context);
      if (context) {
        call.context = context;
        if (context.effect === 'downgrade') call.severity = 'warning';
      }
    }
    const bad = judged.find((v) => v.verdict === 'executable');
    call.fix = bad?.raw !== undefined ? `Pass ${saferValue(arg.kind, BigInt(bad.raw))} as ${arg.name}.` : argumentFix(arg);
    return call;
  }

  /** Reads the context argument at the call; undefined when it does not tell. */
  private context(code: FunctionCode, index: number, tail: boolean, c: ContextArgument): CallContext | undefined {
    const ptr = this.model.pointerSize;
    // KPROCESSOR_MODE is a CCHAR and FLT_CONTEXT_TYPE a USHORT: compilers may set only the low bytes.
    const bytes = c.kind === 'access-mode' ? 1 : c.kind === 'flt-context-type' ? 2 : ptr;
    const values = resolveBefore(this.model, code, index, this.argLocation(c.index, { x86Offset: c.x86Offset, size: ptr }, tail), { bytes });
    const low = (x: bigint): bigint => x & ((1n << BigInt(bytes * 8)) - 1n);
    const consts = values.map((v) => (v.origin.kind === 'const' && !v.merged ? low(v.origin.value) : undefined));
    const all = (x: bigint): boolean => consts.every((k) => k === x);
    const argument = { index: c.index, name: c.name };
    switch (c.kind) {
      case 'access-mode':
        if (all(1n)) {
          return {
            argument,
            value: 'UserMode (1)',
            effect: 'downgrade',
            reason: 'AccessMode is UserMode (1): the pages are mapped into a user address space, which HVCI does not police; Driver Verifier\'s code-integrity check still flags the call',
          };
        }
        return all(0n) ? { argument, value: 'KernelMode (0)', effect: 'confirm', reason: 'AccessMode is KernelMode (0): a system-space mapping' } : undefined;
      case 'process-handle': {
        const current = ptr === 8 ? 0xffffffffffffffffn : 0xffffffffn;
        if (all(current)) {
          return {
            argument,
            value: 'NtCurrentProcess() (-1)',
            effect: 'confirm',
            reason: 'ProcessHandle is NtCurrentProcess() (-1), which in a system thread (DriverEntry, work items) is the System process',
          };
        }
        const what = values.map((v) => (v.origin.kind === 'const' ? rawHex(v.origin.value) : describeOrigin(v))).join(' or ');
        return {
          argument,
          value: what,
          effect: 'downgrade',
          reason: `ProcessHandle is ${what}, not NtCurrentProcess(): the memory belongs to the process that handle names (a user process, as a rule), which HVCI does not police; Driver Verifier still flags the call`,
        };
      }
      case 'flt-context-type':
        if (!all(FLT_VOLUME_CONTEXT)) return undefined;
        return {
          argument,
          value: 'FLT_VOLUME_CONTEXT (0x1)',
          effect: 'downgrade',
          reason:
            'ContextType is FLT_VOLUME_CONTEXT (0x1), for which Microsoft\'s documentation still requires NonPagedPool; whether fltmgr accepts NonPagedPoolNx there is unconfirmed, so try it and test with Memory Integrity on',
        };
      case 'lookaside-allocate': {
        if (all(0n)) return { argument, value: 'NULL', effect: 'confirm', reason: 'Allocate is NULL: the system allocates the entries with these flags' };
        const routines = values.filter((v) => v.origin.kind === 'address' || (v.origin.kind === 'const' && v.origin.value !== 0n));
        if (routines.length === 0) return undefined;
        const names = routines.map((v) => {
          if (v.origin.kind !== 'address') return describeOrigin(v);
          const fn = this.model.functions.at(v.origin.rva);
          return fn ? functionName(fn) : hex(v.origin.rva);
        });
        return {
          argument,
          value: names.join(' or '),
          effect: 'downgrade',
          reason: `a custom Allocate routine (${names.join(' or ')}) allocates the entries, so the flags reach the pool only if that routine passes them on (WDK C30034); its own allocations are checked where it makes them`,
        };
      }
    }
  }

  private argLocation(n: number, arg: Pick<ApiArgument, 'x86Offset' | 'size'> | undefined, tail: boolean): Location {
    const loc = argumentLocation(this.model.arch, n, arg?.x86Offset, arg?.size ?? 4);
    // At a tail jump the return address is still on the stack above the arguments.
    if (tail && loc.k === 'mem') return { ...loc, off: loc.off + this.model.pointerSize };
    return loc;
  }

  /** Values of `loc` before instruction `index`, judged; parameters are followed into callers. */
  private evaluate(code: FunctionCode, index: number, loc: Location, arg: ApiArgument, path: PathStep[], depth: number): ResolvedValue[] {
    const out: ResolvedValue[] = [];
    for (const v of resolveBefore(this.model, code, index, loc)) {
      const start = out.length;
      this.judge(v, code, arg, path, depth, out);
      const conditions = v.conditions?.map((c) => this.condition(c));
      if (conditions?.length) {
        for (const r of out.slice(start)) r.conditions = [...(r.conditions ?? []), ...conditions];
      }
    }
    return out;
  }

  private condition(c: Condition): ValueCondition {
    const out: ValueCondition = { rva: c.rva, testRva: c.testRva, test: this.model.format(c.testRva), held: c.held, version: c.version };
    if (c.onHvci !== undefined) out.onHvci = c.onHvci;
    if (c.api) out.api = { ...c.api };
    return out;
  }

  /** Judges one walked value into `out` (a parameter becomes one result per caller value). */
  private judge(v: Value, code: FunctionCode, arg: ApiArgument, path: PathStep[], depth: number, out: ResolvedValue[]): void {
    const instructions = v.trace.map((rva) => this.evidence(rva));
    if (v.merged?.length) {
      out.push({ ...this.judgeMerged(v, arg), instructions, path });
      return;
    }
    const decided = this.judgeMasks(v, arg);
    if (decided) {
      out.push({ ...decided, instructions, path });
      return;
    }
    const o = v.origin;
    if (o.kind === 'const') {
      const verdict = executability(arg.kind, o.value) === 'executable' ? 'executable' : 'non-executable';
      out.push({ verdict, value: symbolic(arg.kind, o.value), raw: rawHex(o.value), origin: 'constant', instructions, path });
    } else if (o.kind === 'param') {
      out.push(...this.fromCallers(code.fn, o.index, v, arg, path, depth, instructions));
    } else if (o.kind === 'global') {
      out.push({ ...this.judgeGlobal(o.rva, o.size, v, arg), instructions, path });
    } else if (o.kind === 'address') {
      out.push({ verdict: 'unresolved', origin: `address ${hex(o.rva)}`, reason: 'an address, not a value', instructions, path });
    } else {
      out.push({ verdict: 'unresolved', origin: 'unknown', reason: o.reason, instructions, path });
    }
  }

  /** `or`/`and` applied to an unknown value may decide it on their own (`or ecx, 200h`). */
  private judgeMasks(v: Value, arg: ApiArgument): Omit<ResolvedValue, 'instructions' | 'path'> | undefined {
    if (v.origin.kind === 'const') return undefined;
    const ALL = 0xffffffffffffffffn;
    if (v.andMask === ALL && v.orBits === 0n) return undefined;
    const known = (~v.andMask | v.orBits) & ALL;
    const e = executability(arg.kind, v.orBits, known);
    if (e === 'undecided') return undefined;
    return {
      verdict: e,
      origin: describeOrigin(v),
      reason: `the bits that decide are fixed by the code (or 0x${v.orBits.toString(16)}, and 0x${(v.andMask & 0xffffffffn).toString(16)})`,
    };
  }

  /**
   * `a | b | …` where more than one part is not a constant (`or ecx, [global]`): only bits
   * known to be set count. A part that is the driver's NX opt-in default sets the NX bit.
   */
  private judgeMerged(v: Value, arg: ApiArgument): Omit<ResolvedValue, 'instructions' | 'path'> {
    const parts: Value[] = [{ origin: v.origin, andMask: v.andMask, orBits: v.orBits, trace: v.trace }, ...(v.merged ?? [])];
    const origin = parts.map(describeOrigin).join(' | ');
    let setBits = 0n;
    for (const part of parts) {
      setBits |= part.orBits;
      const o = part.origin;
      if (o.kind === 'const') setBits |= o.value;
      if (o.kind !== 'global') continue;
      const g = this.judgeGlobal(o.rva, o.size, part, arg);
      if (g.verdict === 'nx-optin') return { ...g, origin, reason: `${g.reason as string}; OR'ed with the other parts, so the NX bit stays set` };
      if (g.raw !== undefined) setBits |= BigInt(g.raw);
    }
    const e = executability(arg.kind, setBits, setBits);
    if (e !== 'undecided') {
      return { verdict: e, origin, reason: `an OR of several values; the bits known to be set (0x${setBits.toString(16)}) decide` };
    }
    return { verdict: 'unresolved', origin, reason: 'an OR of values that are not known statically' };
  }

  private judgeGlobal(rva: number, size: number, v: Value, arg: ApiArgument): Omit<ResolvedValue, 'instructions' | 'path'> {
    const space = this.model.image.space;
    const section = space.sectionAt(rva);
    const where = `global ${hex(rva)}${section ? ` (${section.name})` : ''}`;
    const opt = this.nxOptIn;
    if (opt && (rva === opt.poolTypeVariableRva || rva === opt.mdlProtectionVariableRva)) {
      return {
        verdict: 'nx-optin',
        origin: where,
        reason: 'the driver\'s NX opt-in default (POOL_NX_OPTIN): set to the NX value after RtlGetVersion reports Windows 8 or later',
      };
    }
    const writable = section ? (section.characteristics & 0x80000000) !== 0 : true;
    if (!writable && section) {
      const raw = size >= 8 ? space.u64(rva) : size === 2 ? space.u16(rva) : size === 1 ? undefined : space.u32(rva);
      if (raw !== undefined) {
        const value = ((BigInt(raw) & v.andMask) | v.orBits) & 0xffffffffffffffffn;
        const verdict = executability(arg.kind, value) === 'executable' ? 'executable' : 'non-executable';
        return { verdict, value: symbolic(arg.kind, value), raw: rawHex(value), origin: `${where}, read-only` };
      }
    }
    return { verdict: 'unresolved', origin: where, reason: 'loaded from a writable global; its value is set at run time' };
  }

  private fromCallers(
    fn: CodeFunction,
    paramIndex: number,
    v: Value,
    arg: ApiArgument,
    path: PathStep[],
    depth: number,
    instructions: EvidenceInstruction[],
  ): ResolvedValue[] {
    const name = functionName(fn);
    if (depth >= MAX_WRAPPER_DEPTH) {
      return [{ verdict: 'unresolved', origin: `parameter ${paramIndex} of ${name}`, reason: 'wrapper chain too deep', instructions, path }];
    }
    const callers = this.callersOf(fn);
    if (callers.length === 0) {
      return [
        {
          verdict: 'unresolved',
          origin: `parameter ${paramIndex} of ${name}`,
          reason: `${name} has no direct callers (called through a pointer or from outside the image)`,
          instructions,
          path,
        },
      ];
    }
    const out: ResolvedValue[] = [];
    // x86 stdcall: parameter n sits at [esp + 4*(n-1)] at the call.
    const callerArg: ApiArgument = { ...arg, x86Offset: 4 * (paramIndex - 1), size: Math.min(arg.size, this.model.pointerSize) };
    for (const c of callers.slice(0, MAX_CALLERS)) {
      const callInsn = c.code.insns[c.index];
      if (!callInsn) continue;
      const step: PathStep = { function: functionName(c.code.fn), functionRva: c.code.fn.start, callRva: callInsn.rva };
      const loc = this.argLocation(paramIndex, callerArg, c.tail);
      for (const r of this.evaluate(c.code, c.index, loc, arg, [step, ...path], depth + 1)) {
        // Masks applied inside the wrapper still apply to what the caller passes.
        if (r.raw !== undefined && (v.andMask !== 0xffffffffffffffffn || v.orBits !== 0n)) {
          const value = (BigInt(r.raw) & v.andMask) | v.orBits;
          const verdict = executability(arg.kind, value) === 'executable' ? 'executable' : 'non-executable';
          out.push({ ...r, verdict, value: symbolic(arg.kind, value), raw: rawHex(value), instructions: [...r.instructions, ...instructions] });
        } else {
          out.push({ ...r, instructions: [...r.instructions, ...instructions] });
        }
      }
    }
    return out;
  }

  /** Direct calls and tail jumps to `fn`, found by scanning for E8/E9 to its start. */
  private callersOf(fn: CodeFunction): Array<{ code: FunctionCode; index: number; tail: boolean }> {
    const cached = this.callersCache.get(fn.start);
    if (cached) return cached;
    const out: Array<{ code: FunctionCode; index: number; tail: boolean }> = [];
    const target = new Set([fn.start]);
    for (const caller of functionsReferencing(this.model, scanDirectBranches(this.model, target))) {
      const code = this.model.code(caller);
      code.insns.forEach((insn, index) => {
        const op = insn.operands[0];
        if (op?.kind !== 'branch' || op.target !== fn.start || caller.start === fn.start) return;
        if (insn.flow === 'call') out.push({ code, index, tail: false });
        else if (insn.flow === 'jmp') out.push({ code, index, tail: true });
      });
    }
    this.callersCache.set(fn.start, out);
    return out;
  }

  /** `test byte ptr [mdl+MdlFlags], 5` shortly before the call: the inline MmGetSystemAddressForMdlSafe. */
  private isInlineMdlSafe(code: FunctionCode, callRva: number): boolean {
    const i = code.indexOf.get(callRva);
    if (i === undefined) return false;
    const flagsOffset = this.model.bitness === 64 ? 0xa : 0x6;
    for (let j = Math.max(0, i - 16); j < i; j++) {
      const insn = code.insns[j];
      if (!insn || insn.mnemonic !== 'test') continue;
      const [m, imm] = insn.operands;
      if (m?.kind === 'mem' && m.disp === flagsOffset && imm?.kind === 'imm' && imm.value === 5n) return true;
    }
    return false;
  }

  private evidence(rva: number): EvidenceInstruction {
    const e: EvidenceInstruction = { rva, text: this.model.format(rva) };
    const off = this.model.fileOffset(rva);
    if (off !== undefined) e.fileOffset = off;
    return e;
  }

  private callText(site: ImportCallSite): string {
    const text = this.model.format(site.callRva);
    const how = site.detail
      ? ` (${site.detail})`
      : site.form === 'thunk'
        ? ' (via thunk)'
        : site.form === 'dynamic'
          ? ' (pointer from MmGetSystemRoutineAddress)'
          : '';
    return `${text}  ; ${site.slot.name}${how}`;
  }
}

/** A raw argument value as it is passed (lower case, like the disassembly); addresses use pe's hex. */
const rawHex = (v: bigint): string => `0x${v.toString(16)}`;
const FLT_VOLUME_CONTEXT = 1n;

/** The value's path passes a version test that every Windows with Memory Integrity decides the other way. */
export function neverOnHvci(v: ResolvedValue): boolean {
  return v.conditions?.some((c) => c.onHvci === false) ?? false;
}

/**
 * The version test that alone separates the executable values from the non-executable ones
 * (each executable value on one side of it, each NX value on the other), when the binary does
 * not tell which side Windows 10+ takes; undefined when the choice is anything else.
 */
function versionChoice(values: readonly ResolvedValue[]): ValueCondition | undefined {
  const exec = values.filter((v) => v.verdict === 'executable');
  const safe = values.filter((v) => v.verdict === 'non-executable' || v.verdict === 'nx-optin');
  if (exec.length === 0 || safe.length === 0) return undefined;
  const on = (v: ResolvedValue, c: ValueCondition, held: boolean): boolean => v.conditions?.some((d) => d.rva === c.rva && d.held === held) ?? false;
  for (const c of exec[0]?.conditions ?? []) {
    if (c.onHvci !== undefined) continue;
    if (exec.every((v) => on(v, c, c.held)) && safe.every((v) => on(v, c, !c.held))) return c;
  }
  return undefined;
}

function describeOrigin(v: Value): string {
  const o = v.origin;
  switch (o.kind) {
    case 'param':
      return `parameter ${o.index}`;
    case 'global':
      return `global ${hex(o.rva)}`;
    case 'address':
      return `address ${hex(o.rva)}`;
    case 'const':
      return 'constant';
    case 'unknown':
      return `unknown (${o.reason})`;
  }
}
