/**
 * KMDF methods are not imported (rule book §2 note): the KMDF stub library links a function
 * table that the framework loader fills in, and the WDF headers call through it. Two forms:
 *   KMDF 1.15+  a pointer global `WdfFunctions_01015`:
 *                 x64 mov rax, [rip+WdfFunctions_01015] ... call qword ptr [rax+idx*8]
 *   older       the table itself, `WdfFunctions[]`, in the driver's data:
 *                 x64 call qword ptr [rip+WdfFunctions+idx*8]   (debug builds: lea + imul)
 *                 x86 call dword ptr [WdfFunctions+idx*4]
 * Either may go through x64 Control Flow Guard (`call [__guard_dispatch_icall_fptr]`, the
 * target in RAX); call-targets.ts follows all of these back to the table entry.
 * The first actual argument is WdfDriverGlobals, so documented arguments shift by one; the
 * API table gives the actual positions.
 *
 * The table is found from the stub's WDF_BIND_INFO: the UTF-16 "KmdfLibrary" string, the
 * bind info whose Component points at it, then its FuncTable pointer
 *   { ULONG Size; PWSTR Component; WDF_VERSION Version (3 ULONGs); ULONG FuncCount; PVOID FuncTable; PVOID Module; }
 * FuncTable points at the pointer global (1.15+) or at the table itself (older); the
 * version's minor number tells which. No bind info: no KMDF call sites (nothing is guessed
 * from names or patterns alone).
 */
import type { ImportCallSite } from './call-sites.js';
import { functionsReferencing, scanSlotReferences } from './call-sites.js';
import { guardDispatchRva, indirectCallSources, isGuardDispatch, type PointerSource } from './call-targets.js';
import type { CodeModel } from './code-model.js';
import { hex } from '../pe/index.js';

/** The framework module a KMDF driver binds to (reported as the "dll" of the call). */
export const KMDF_MODULE = 'Wdf01000.sys';

/** KMDF WDFFUNCENUM indices of the methods the rule book lists (UMDF indices differ). */
export const KMDF_FUNCTIONS: ReadonlyMap<number, string> = new Map([
  [82, 'WdfDeviceAllocAndQueryProperty'],
  [127, 'WdfFdoInitAllocAndQueryProperty'],
  [176, 'WdfIoTargetAllocAndQueryTargetProperty'],
  [192, 'WdfMemoryCreate'],
  [198, 'WdfLookasideListCreate'],
  [236, 'WdfRegistryQueryMemory'],
  [434, 'WdfDeviceAllocAndQueryPropertyEx'],
  [437, 'WdfFdoInitAllocAndQueryPropertyEx'],
]);

export interface KmdfBinding {
  /** RVA of the WDF_BIND_INFO structure. */
  bindInfoRva: number;
  /** RVA of the function table pointer global (WdfFunctions_01015). */
  tableRva: number;
  /** FuncCount from the bind info (highest valid index + 1). */
  funcCount: number;
  /** KMDF version the driver was built against ("1.11"). */
  version: string;
  /** `pointer`: tableRva holds a pointer to the table (KMDF 1.15+); `array`: tableRva is the table. */
  form: 'pointer' | 'array';
}

/** A call through the KMDF function table, by index (any method, not only the §2 ones). */
export interface KmdfCall {
  callRva: number;
  index: number;
  /** The binding's tableRva (the table, or the pointer global). */
  tableRva: number;
  /** The call goes through the x64 CFG dispatch routine (target in RAX). */
  guarded: boolean;
  /** The load of the table entry or of the table pointer, when it is a separate instruction. */
  via?: number;
  tail: boolean;
}

const COMPONENT = 'KmdfLibrary\0';
/** KMDF 1.15 moved the table out of the driver (WdfFunctions_01015 pointer). */
const FIRST_POINTER_FORM_MINOR = 15;

/** Every WDF_BIND_INFO naming "KmdfLibrary" whose FuncTable points into the image. */
export function findKmdfBindings(model: CodeModel): KmdfBinding[] {
  const space = model.image.space;
  const ptr = model.pointerSize;
  const base = model.imageBase;
  const strings = new Set<bigint>();
  const pattern = new Uint8Array(COMPONENT.length * 2);
  for (let i = 0; i < COMPONENT.length; i++) pattern[2 * i] = COMPONENT.charCodeAt(i);
  const sections = model.image.sections
    .map((s) => ({ rva: s.virtualAddress, bytes: space.bytesAt(s.virtualAddress, s.virtualSize || s.sizeOfRawData) }))
    .filter((s): s is { rva: number; bytes: Uint8Array } => s.bytes !== undefined);
  for (const { rva, bytes } of sections) {
    for (let i = bytes.indexOf(pattern[0] as number); i >= 0 && i + pattern.length <= bytes.length; i = bytes.indexOf(pattern[0] as number, i + 1)) {
      let j = 0;
      while (j < pattern.length && bytes[i + j] === pattern[j]) j++;
      if (j === pattern.length) strings.add(base + BigInt(rva + i));
    }
  }
  if (strings.size === 0) return [];
  // Layout offsets from the Component field: Version, FuncCount, FuncTable.
  const countOff = ptr === 8 ? 20 : 16;
  const tableOff = ptr === 8 ? 24 : 20;
  const out: KmdfBinding[] = [];
  for (const { rva, bytes } of sections) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i + ptr <= bytes.length; i += ptr) {
      const value = ptr === 8 ? dv.getBigUint64(i, true) : BigInt(dv.getUint32(i, true));
      if (!strings.has(value)) continue;
      const componentRva = rva + i;
      const size = space.u32(componentRva - ptr);
      const count = space.u32(componentRva + countOff);
      const major = space.u32(componentRva + ptr);
      const minor = space.u32(componentRva + ptr + 4);
      const table = space.pointer(componentRva + tableOff);
      if (size === undefined || size < tableOff + ptr || size > 0x400 || count === undefined || count > 0x10000) continue;
      if (table === undefined || table < base || major === undefined || minor === undefined) continue;
      const tableRva = Number(table - base);
      const form = major > 1 || minor >= FIRST_POINTER_FORM_MINOR ? 'pointer' : 'array';
      if (!space.isMapped(tableRva) || (form === 'array' && !space.isMapped(tableRva + count * ptr - 1))) continue;
      out.push({ bindInfoRva: componentRva - ptr, tableRva, funcCount: count, version: `${major}.${minor}`, form });
    }
  }
  return out;
}

/** Every call through a KMDF function table, with its method index, in call-RVA order. */
export function findKmdfCalls(model: CodeModel, bindings = findKmdfBindings(model)): KmdfCall[] {
  if (bindings.length === 0) return [];
  const ptr = model.pointerSize;
  // Code that names the table: the pointer global, or (array form) any of its entries.
  const referenced = new Map<number, true>();
  for (const b of bindings) {
    referenced.set(b.tableRva, true);
    if (b.form === 'array') for (let i = 1; i < b.funcCount; i++) referenced.set(b.tableRva + i * ptr, true);
  }
  const dispatch = guardDispatchRva(model);
  const calls = new Map<number, KmdfCall>();
  for (const { insn, sources } of indirectCallSources(model, functionsReferencing(model, scanSlotReferences(model, referenced)))) {
    for (const source of sources) {
      const hit = tableIndex(bindings, source, ptr);
      if (hit === undefined) continue;
      const call: KmdfCall = {
        callRva: insn.rva,
        index: hit.index,
        tableRva: hit.tableRva,
        guarded: isGuardDispatch(insn, dispatch),
        tail: insn.flow === 'jmp-indirect',
      };
      if (source.via !== undefined) call.via = source.via;
      calls.set(insn.rva, call);
      break;
    }
  }
  return [...calls.values()].sort((a, b) => a.callRva - b.callRva);
}

function tableIndex(
  bindings: readonly KmdfBinding[],
  source: PointerSource,
  ptr: number,
): { index: number; tableRva: number } | undefined {
  for (const b of bindings) {
    const offset =
      b.form === 'array' && source.kind === 'memory'
        ? source.rva - b.tableRva
        : b.form === 'pointer' && source.kind === 'through-global' && source.globalRva === b.tableRva
          ? source.offset
          : -1;
    if (offset >= 0 && offset % ptr === 0 && offset / ptr < b.funcCount) return { index: offset / ptr, tableRva: b.tableRva };
  }
  return undefined;
}

/** The KMDF calls of the rule book's methods (KMDF_FUNCTIONS, or only those named in `apis`) as call sites. */
export function findKmdfCallSites(model: CodeModel, apis?: ReadonlySet<string>): ImportCallSite[] {
  const bindings = findKmdfBindings(model);
  const sites: ImportCallSite[] = [];
  for (const call of findKmdfCalls(model, bindings)) {
    const name = KMDF_FUNCTIONS.get(call.index);
    const fn = model.functions.containing(call.callRva);
    if (name === undefined || (apis && !apis.has(name)) || !fn) continue;
    const site: ImportCallSite = {
      slot: { dll: KMDF_MODULE, name, delayLoaded: false, rva: call.tableRva },
      callRva: call.callRva,
      fn,
      form: 'kmdf-table',
      tail: call.tail,
      detail: [
        `KMDF function table #${call.index}`,
        call.via !== undefined ? `entry loaded at ${hex(call.via)}` : '',
        call.guarded ? 'called through the CFG dispatch routine' : '',
      ]
        .filter(Boolean)
        .join(', '),
    };
    if (call.via !== undefined) site.viaRva = call.via;
    sites.push(site);
  }
  return sites;
}
