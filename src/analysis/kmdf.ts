/**
 * KMDF methods are not imported (rule book §2 note): the KMDF stub library links a global
 * function table pointer (`WdfFunctions_01015`, older `WdfFunctions`) that the framework
 * loader fills in, and the WDF headers call through it:
 *   x64  mov rax, [rip+WdfFunctions_01015] ... call qword ptr [rax+idx*8]
 *   x86  mov eax, [WdfFunctions_01015]     ... call dword ptr [eax+idx*4]
 * The first actual argument is WdfDriverGlobals, so documented arguments shift by one; the
 * API table gives the actual positions.
 *
 * The table global is found from the stub's WDF_BIND_INFO: the UTF-16 "KmdfLibrary"
 * string, the bind info whose Component points at it, then its FuncTable pointer
 *   { ULONG Size; PWSTR Component; WDF_VERSION Version (3 ULONGs); ULONG FuncCount; PVOID FuncTable; PVOID Module; }
 * No bind info: no KMDF call sites (nothing is guessed from names or patterns alone).
 */
import type { ImportCallSite } from './call-sites.js';
import { functionsReferencing, scanSlotReferences } from './call-sites.js';
import type { CodeModel } from './code-model.js';
import { resolveBefore } from './dataflow.js';
import { registerFamily } from './decoder.js';

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
}

const COMPONENT = 'KmdfLibrary\0';
const ALL = 0xffffffffffffffffn;

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
      const table = space.pointer(componentRva + tableOff);
      if (size === undefined || size < tableOff + ptr || size > 0x400 || count === undefined || table === undefined || table < base) continue;
      const tableRva = Number(table - base);
      if (!space.isMapped(tableRva)) continue;
      out.push({ bindInfoRva: componentRva - ptr, tableRva, funcCount: count });
    }
  }
  return out;
}

/**
 * Calls `call [reg+idx*ptr]` (and tail jumps) where reg holds the value of a KMDF function
 * table global, for the indices of KMDF_FUNCTIONS (or only those named in `apis`).
 */
export function findKmdfCallSites(model: CodeModel, apis?: ReadonlySet<string>): ImportCallSite[] {
  const bindings = findKmdfBindings(model);
  if (bindings.length === 0) return [];
  const tables = new Map(bindings.map((b) => [b.tableRva, b]));
  const ptr = model.pointerSize;
  const sites: ImportCallSite[] = [];
  for (const fn of functionsReferencing(model, scanSlotReferences(model, tables))) {
    const code = model.code(fn);
    code.insns.forEach((insn, i) => {
      if (insn.flow !== 'call-indirect' && insn.flow !== 'jmp-indirect') return;
      const op = insn.operands[0];
      if (op?.kind !== 'mem' || op.base === undefined || op.index !== undefined || op.disp < 0 || op.disp % ptr !== 0) return;
      const idx = op.disp / ptr;
      const name = KMDF_FUNCTIONS.get(idx);
      if (name === undefined || (apis && !apis.has(name))) return;
      const fam = registerFamily(op.base);
      if (fam < 0) return;
      for (const v of resolveBefore(model, code, i, { k: 'reg', fam })) {
        if (v.origin.kind !== 'global' || v.andMask !== ALL || v.orBits !== 0n) continue;
        const binding = tables.get(v.origin.rva);
        if (!binding || idx >= binding.funcCount) continue;
        const site: ImportCallSite = {
          slot: { dll: KMDF_MODULE, name, delayLoaded: false, rva: binding.tableRva },
          callRva: insn.rva,
          fn,
          form: 'kmdf-table',
          tail: insn.flow === 'jmp-indirect',
        };
        const load = v.trace[0];
        if (load !== undefined) site.viaRva = load;
        sites.push(site);
        break;
      }
    });
  }
  return sites.sort((a, b) => a.callRva - b.callRva);
}
