/**
 * Finds the calls to imported functions, in the forms compilers emit:
 *   iat       call [rip+slot] / x86 call [slot]                 (also delay-load slots)
 *   thunk     call T, where T is `jmp [slot]`
 *   register  mov reg, [slot] ... call reg (the pointer may be reused by several calls)
 *   tail-jump jmp [slot] at the end of a function (arguments are the function's own)
 *   dynamic   call reg through a pointer MmGetSystemRoutineAddress returned (call-analysis.ts)
 *   kmdf-table  through the KMDF function table, in all its forms (kmdf.ts)
 *   global-pointer  through a writable global another function stored the API's pointer in
 *               (global-pointers.ts)
 *
 * Targeted by default: scan the code bytes for the slots' RIP-relative displacements or
 * absolute addresses, and decode only the functions that contain a hit. The `full`
 * strategy decodes every function instead; both give the same sites (a benchmark and a
 * test compare them).
 */
import { type Insn, registerFamily } from './decoder.js';
import { resolveBefore } from './dataflow.js';
import type { PeImage } from '../pe/index.js';
import { CodeModel, type FunctionCode, type ImportSlot } from './code-model.js';
import { branchTarget, type CodeFunction } from './functions.js';
import { scanArm64References } from './arm64/scan.js';
import { foldPageAddresses } from './arm64/fold.js';

export type CallForm = 'iat' | 'thunk' | 'register' | 'tail-jump' | 'dynamic' | 'kmdf-table' | 'global-pointer';

export interface ImportCallSite {
  slot: ImportSlot;
  /** RVA of the call (or tail jump) instruction. */
  callRva: number;
  fn: CodeFunction;
  form: CallForm;
  /**
   * Thunk start (thunk form), the load of the slot (register form), the load of the KMDF
   * table entry or pointer (kmdf-table), or the store of the pointer (global-pointer).
   */
  viaRva?: number;
  /** global-pointer: the global the pointer is read from. */
  pointerGlobal?: number;
  /** How the call reaches the API, for the disassembly comment ("KMDF function table #192, …"). */
  detail?: string;
  /** True for a tail jump: the return address is already on the stack. */
  tail: boolean;
}

export type Strategy = 'targeted' | 'full';

export interface FindOptions {
  /** Only these API names (default: every import). */
  apis?: ReadonlySet<string>;
  strategy?: Strategy;
}

/** Call sites of imported functions, sorted by call RVA. */
export function findImportCallSites(model: CodeModel, options: FindOptions = {}): ImportCallSite[] {
  const slots = new Map<number, ImportSlot>();
  for (const [rva, slot] of model.importSlots) if (!options.apis || options.apis.has(slot.name)) slots.set(rva, slot);
  if (slots.size === 0) return [];
  const functions =
    options.strategy === 'full' ? [...model.functions.functions] : functionsReferencing(model, importSlotReferences(model, slots));
  const sites: ImportCallSite[] = [];
  const thunks = new Map<number, ImportSlot>();
  for (const fn of functions) collectInFunction(model, model.code(fn), slots, sites, thunks);
  for (const t of thunkCandidatesOutsideFunctions(model, slots)) if (!thunks.has(t.start)) thunks.set(t.start, t.slot);
  if (thunks.size > 0) {
    const callers =
      options.strategy === 'full'
        ? [...model.functions.functions]
        : functionsReferencing(model, scanDirectBranches(model, new Set(thunks.keys())));
    for (const fn of callers) {
      const code = model.code(fn);
      for (const insn of code.insns) {
        const target = branchTarget(insn);
        if (target === undefined || (insn.flow !== 'call' && insn.flow !== 'jmp')) continue;
        const slot = thunks.get(target);
        if (!slot || target === fn.start) continue;
        sites.push({ slot, callRva: insn.rva, fn, form: 'thunk', viaRva: target, tail: insn.flow === 'jmp' });
      }
    }
  }
  const unique = new Map<number, ImportCallSite>();
  for (const s of sites) if (!unique.has(s.callRva)) unique.set(s.callRva, s);
  return [...unique.values()].sort((a, b) => a.callRva - b.callRva);
}

/**
 * For benchmarks: finds the call sites of the §2 table APIs (or of `apis`) with one
 * strategy on a fresh code model, frees its wasm memory, and returns the sites and how many
 * functions were decoded. Undefined for machines other than x86/x64.
 */
export function findCallSitesFresh(
  image: PeImage,
  strategy: Strategy,
  apis?: ReadonlySet<string>,
): { sites: ImportCallSite[]; decodedFunctions: number } | undefined {
  if (image.machine !== 0x14c && image.machine !== 0x8664 && image.machine !== 0xaa64) return undefined;
  const model = new CodeModel(image);
  try {
    const sites = findImportCallSites(model, apis ? { strategy, apis } : { strategy });
    return { sites, decodedFunctions: model.decodedFunctionCount };
  } finally {
    model.reader.dispose();
  }
}

function collectInFunction(
  model: CodeModel,
  code: FunctionCode,
  slots: ReadonlyMap<number, ImportSlot>,
  sites: ImportCallSite[],
  thunks: Map<number, ImportSlot>,
): void {
  let loadsSlot = false;
  for (const insn of code.insns) {
    const mem = insn.operands.find((o) => o.kind === 'mem');
    const slot = mem?.kind === 'mem' && mem.target !== undefined ? slots.get(mem.target) : undefined;
    if (!slot) continue;
    if (insn.flow === 'call-indirect') {
      sites.push({ slot, callRva: insn.rva, fn: code.fn, form: 'iat', tail: false });
    } else if (insn.flow === 'jmp-indirect') {
      if (insn.rva === code.fn.start) thunks.set(insn.rva, slot);
      else sites.push({ slot, callRva: insn.rva, fn: code.fn, form: 'tail-jump', tail: true });
    } else if (insn.mnemonic === 'mov') {
      loadsSlot = true;
    }
  }
  if (!loadsSlot) return;
  // mov reg, [slot] ... call reg: resolve each register call's target backwards.
  code.insns.forEach((insn, i) => {
    if (insn.flow !== 'call-indirect' && insn.flow !== 'jmp-indirect') return;
    const op = insn.operands[0];
    if (op?.kind !== 'reg') return;
    const fam = registerFamily(op.reg);
    if (fam < 0) return;
    for (const v of resolveBefore(model, code, i, { k: 'reg', fam })) {
      if (v.origin.kind !== 'global') continue;
      const slot = slots.get(v.origin.rva);
      if (!slot) continue;
      if (isArm64Thunk(model, code, i)) {
        thunks.set(code.fn.start, slot);
        break;
      }
      const site: ImportCallSite = { slot, callRva: insn.rva, fn: code.fn, form: 'register', tail: insn.flow === 'jmp-indirect' };
      const load = model.firstLoad(v.trace);
      if (load !== undefined) site.viaRva = load;
      sites.push(site);
      break;
    }
  });
}

/** ARM64 import thunk: `adrp x16, page; ldr x16, [x16, #off]; br x16` as a function of its own. */
function isArm64Thunk(model: CodeModel, code: FunctionCode, index: number): boolean {
  return model.arch === 'arm64' && index === 2 && code.insns[0]?.rva === code.fn.start && code.insns[index]?.flow === 'jmp-indirect';
}

/**
 * RVAs of code bytes that may hold a reference to one of the slots: ARM64 the load that
 * completes an adrp (or a literal load) naming the slot; x64 a rel32 whose
 * instruction ends 0, 1 or 4 bytes after it (immediate operands follow the displacement),
 * x86 the slot's absolute address.
 */
export function scanSlotReferences(model: CodeModel, slots: ReadonlyMap<number, unknown>): number[] {
  const hits: number[] = [];
  scanReferences(model, slots, (at) => {
    if (hits[hits.length - 1] !== at) hits.push(at);
  });
  return hits;
}

/** Calls `hit(at, slot)` for each code byte `at` that may address `slot` (several slots: once each). */
function scanReferences(model: CodeModel, slots: ReadonlyMap<number, unknown>, hit: (at: number, slot: number) => void): void {
  if (slots.size === 0) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const k of slots.keys()) {
    if (k < lo) lo = k;
    if (k > hi) hi = k;
  }
  const base = Number(model.imageBase);
  if (model.arch === 'arm64') {
    scanArm64References(model.codeSections(), (at, target, kind) => {
      if (kind === 'address' && target >= lo && target <= hi && slots.has(target)) hit(at, target);
    });
    return;
  }
  for (const { rva, bytes } of model.codeSections()) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const last = bytes.length - 4;
    if (model.bitness === 64) {
      for (let i = 0; i <= last; i++) {
        const target = rva + i + 4 + dv.getInt32(i, true);
        // Cheap range test before the exact ones.
        if (target < lo - 4 || target > hi + 8) continue;
        if (slots.has(target)) hit(rva + i, target);
        if (slots.has(target + 1)) hit(rva + i, target + 1);
        if (slots.has(target + 4)) hit(rva + i, target + 4);
      }
    } else {
      for (let i = 0; i <= last; i++) {
        const target = dv.getUint32(i, true) - base;
        if (target >= lo && target <= hi && slots.has(target)) hit(rva + i, target);
      }
    }
  }
}

/**
 * Every possible reference to an import slot, found in one scan per model: the rules ask
 * for different APIs' call sites about ten times per image, and each scan reads all code.
 */
const importReferences = new WeakMap<CodeModel, { at: number[]; slot: number[] }>();

/** scanSlotReferences for a subset of the model's import slots, from the per-model scan. */
function importSlotReferences(model: CodeModel, slots: ReadonlyMap<number, unknown>): number[] {
  let refs = importReferences.get(model);
  if (!refs) {
    const found = { at: [] as number[], slot: [] as number[] };
    scanReferences(model, model.importSlots, (at, slot) => {
      found.at.push(at);
      found.slot.push(slot);
    });
    importReferences.set(model, found);
    refs = found;
  }
  const hits: number[] = [];
  for (let i = 0; i < refs.at.length; i++) {
    const at = refs.at[i] as number;
    if (slots.has(refs.slot[i] as number) && hits[hits.length - 1] !== at) hits.push(at);
  }
  return hits;
}

/** Direct call and jump targets (E8/E9 rel32; ARM64 b/bl/b.cond/cbz/tbz) of a model's code, found in one scan per model. */
const directBranches = new WeakMap<CodeModel, Map<number, number[]>>();

/** RVAs of E8/E9 rel32 instructions (ARM64 direct branches) whose target is in `targets`. */
export function scanDirectBranches(model: CodeModel, targets: ReadonlySet<number>): number[] {
  let byTarget = directBranches.get(model);
  if (!byTarget) {
    byTarget = new Map();
    const add = (target: number, at: number) => {
      const list = (byTarget as Map<number, number[]>).get(target);
      if (list) list.push(at);
      else (byTarget as Map<number, number[]>).set(target, [at]);
    };
    if (model.arch === 'arm64') {
      scanArm64References(model.codeSections(), (at, target, kind) => {
        if (kind !== 'address') add(target, at);
      });
    }
    for (const { rva, bytes } of model.arch === 'arm64' ? [] : model.codeSections()) {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i + 5 <= bytes.length; i++) {
        const op = bytes[i];
        if (op !== 0xe8 && op !== 0xe9) continue;
        add((rva + i + 5 + dv.getInt32(i + 1, true)) >>> 0, rva + i);
      }
    }
    directBranches.set(model, byTarget);
  }
  const hits: number[] = [];
  for (const t of targets) hits.push(...(byTarget.get(t) ?? []));
  return hits.sort((a, b) => a - b);
}

/** The distinct functions containing the given RVAs. */
export function functionsReferencing(model: CodeModel, rvas: readonly number[]): CodeFunction[] {
  const out = new Map<number, CodeFunction>();
  for (const rva of rvas) {
    const fn = model.functions.containing(rva);
    if (fn) out.set(fn.start, fn);
  }
  return [...out.values()];
}

/**
 * x64 import thunks (`jmp [rip+slot]`) have no .pdata entry. Find them from the scan
 * hits that no function covers: decode at the possible instruction starts (FF 25 / 48 FF 25).
 */
function thunkCandidatesOutsideFunctions(model: CodeModel, slots: ReadonlyMap<number, ImportSlot>): Array<{ start: number; slot: ImportSlot }> {
  const out: Array<{ start: number; slot: ImportSlot }> = [];
  if (model.arch === 'arm64') {
    for (const hit of importSlotReferences(model, slots)) {
      if (model.functions.containing(hit)) continue;
      const insns = [hit - 4, hit, hit + 4].map((rva) => model.reader.decodeAt(rva));
      if (insns.some((x) => x === undefined)) continue;
      const three = insns as Insn[];
      foldPageAddresses(three, () => false);
      const [page, load, jump] = three as [Insn, Insn, Insn];
      const mem = load.operands[1];
      const loaded = load.operands[0];
      const via = jump.operands[0];
      if (!page.pageAddress || jump.flow !== 'jmp-indirect' || mem?.kind !== 'mem' || mem.target === undefined) continue;
      if (loaded?.kind !== 'reg' || via?.kind !== 'reg' || loaded.reg !== via.reg) continue;
      const slot = slots.get(mem.target);
      if (slot) out.push({ start: hit - 4, slot });
    }
    return out;
  }
  for (const hit of importSlotReferences(model, slots)) {
    if (model.functions.containing(hit)) continue;
    for (const start of [hit - 2, hit - 3]) {
      const insn: Insn | undefined = model.reader.decodeAt(start);
      if (!insn || insn.flow !== 'jmp-indirect' || start + insn.length !== hit + 4) continue;
      const mem = insn.operands[0];
      const slot = mem?.kind === 'mem' && mem.target !== undefined ? slots.get(mem.target) : undefined;
      if (slot) out.push({ start, slot });
    }
  }
  return out;
}
