/**
 * API pointers kept in writable globals: one function stores the pointer, others call
 * through it. Two sources are recognised:
 *   import  mov reg, [iat slot] ... mov [G], reg        (`g_alloc = ExAllocatePoolWithTag;`)
 *   lookup  call MmGetSystemRoutineAddress; mov [G], rax (`g_alloc2 = MmGetSystemRoutineAddress(&name);`)
 * Calls through G anywhere in the image (`call [G]`, `mov rax,[G]; call rax`, or through the
 * CFG dispatch routine) are then calls of that API: form `global-pointer`.
 */
import { hex, isWritable } from '../pe/index.js';
import type { ImportCallSite } from './call-sites.js';
import { functionsReferencing, scanSlotReferences } from './call-sites.js';
import { indirectCallSources } from './call-targets.js';
import type { CodeModel, ImportSlot } from './code-model.js';
import { resolveBefore } from './dataflow.js';
import { registerFamily } from './decoder.js';
import type { RoutineLookup } from './dynamic-lookup.js';
import { type CodeFunction, functionName } from './functions.js';

export interface StoredPointer {
  /** The global that holds the pointer. */
  globalRva: number;
  slot: ImportSlot;
  /** The store instruction and the function that makes it. */
  storeRva: number;
  storedBy: string;
}

/**
 * Stores of table-API pointers into writable globals: from the IAT slots in `slots`, and
 * from the MmGetSystemRoutineAddress lookups whose name is in `apis`.
 */
export function findStoredPointers(model: CodeModel, slots: ReadonlyMap<number, ImportSlot>, lookups: readonly RoutineLookup[], apis: ReadonlySet<string>): StoredPointer[] {
  const out: StoredPointer[] = [];
  const ptr = model.pointerSize;
  const storesIn = (fn: CodeFunction, match: (values: ReturnType<typeof resolveBefore>) => ImportSlot | undefined, after = 0): void => {
    const code = model.code(fn);
    code.insns.forEach((insn, i) => {
      if (insn.mnemonic !== 'mov' || insn.rva < after) return;
      const [dst, src] = insn.operands;
      if (dst?.kind !== 'mem' || dst.target === undefined || dst.size !== ptr || src?.kind !== 'reg') return;
      const section = model.image.space.sectionAt(dst.target);
      const fam = registerFamily(src.reg);
      if (!section || !isWritable(section) || fam < 0) return;
      const slot = match(resolveBefore(model, code, i, { k: 'reg', fam }));
      if (slot) out.push({ globalRva: dst.target, slot, storeRva: insn.rva, storedBy: functionName(fn) });
    });
  };
  const tableSlots = new Map([...slots].filter(([, s]) => apis.has(s.name)));
  if (tableSlots.size > 0) {
    for (const fn of functionsReferencing(model, scanSlotReferences(model, tableSlots))) {
      storesIn(fn, (values) => {
        const v = values.find((x) => x.origin.kind === 'global' && tableSlots.has(x.origin.rva));
        return v?.origin.kind === 'global' ? tableSlots.get(v.origin.rva) : undefined;
      });
    }
  }
  for (const lookup of lookups) {
    if (lookup.name === undefined || !apis.has(lookup.name)) continue;
    const fn = model.functions.containing(lookup.callRva);
    if (!fn) continue;
    const slot: ImportSlot = { dll: 'MmGetSystemRoutineAddress', name: lookup.name, delayLoaded: false, rva: lookup.nameRva ?? 0 };
    // The lookup's return value (rax/eax) reaches the store.
    storesIn(fn, (values) => (values.some((v) => v.origin.kind === 'unknown' && v.trace[0] === lookup.callRva) ? slot : undefined), lookup.callRva);
  }
  return out;
}

/** Calls through the globals of `stored`, as call sites of the stored API. */
export function findGlobalPointerCallSites(model: CodeModel, stored: readonly StoredPointer[]): ImportCallSite[] {
  if (stored.length === 0) return [];
  const byGlobal = new Map<number, StoredPointer[]>();
  for (const s of stored) {
    const list = byGlobal.get(s.globalRva);
    if (list) list.push(s);
    else byGlobal.set(s.globalRva, [s]);
  }
  const sites = new Map<string, ImportCallSite>();
  for (const { code, insn, sources } of indirectCallSources(model, functionsReferencing(model, scanSlotReferences(model, byGlobal)))) {
    for (const source of sources) {
      if (source.kind !== 'memory') continue;
      for (const s of byGlobal.get(source.rva) ?? []) {
        const key = `${insn.rva}|${s.slot.name}`;
        if (sites.has(key)) continue;
        sites.set(key, {
          slot: s.slot,
          callRva: insn.rva,
          fn: code.fn,
          form: 'global-pointer',
          viaRva: s.storeRva,
          pointerGlobal: s.globalRva,
          detail: `pointer read from global ${hex(s.globalRva)}, stored there at ${hex(s.storeRva)} by ${s.storedBy}`,
          tail: insn.flow === 'jmp-indirect',
        });
      }
    }
  }
  return [...sites.values()].sort((a, b) => a.callRva - b.callRva);
}
