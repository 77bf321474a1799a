/**
 * MmGetSystemRoutineAddress(PUNICODE_STRING): a driver can resolve an API by name at run
 * time, and its calls then bypass the import table (rule book §9 dynamic-routine-lookup).
 * Recover the name at each call: a UNICODE_STRING in the image (lea rcx, [name]), or a
 * local filled by RtlInitUnicodeString(&local, L"...") earlier in the same function.
 */
import { API_TABLE } from './api-table.js';
import { findImportCallSites } from './call-sites.js';
import type { CodeModel } from './code-model.js';
import { argumentLocation, resolveBefore } from './dataflow.js';
import { functionName } from './functions.js';

export interface RoutineLookup {
  callRva: number;
  fileOffset?: number;
  function: string;
  functionRva: number;
  /** The routine name, when recovered. */
  name?: string;
  /** RVA of the UTF-16 name in the image. */
  nameRva?: number;
  /** The name is an API of the §2 table (can return executable memory). */
  affected: boolean;
}

/** APIs whose arguments can ask for executable memory (class N APIs cannot). */
const AFFECTED = new Set(API_TABLE.filter((s) => s.cls !== 'N').map((s) => s.name));

const cache = new WeakMap<CodeModel, RoutineLookup[]>();

/** The MmGetSystemRoutineAddress calls of the image, with the names looked up (cached per model). */
export function findRoutineLookups(model: CodeModel): RoutineLookup[] {
  let lookups = cache.get(model);
  if (!lookups) {
    lookups = [...model.importSlots.values()].some((s) => s.name === 'MmGetSystemRoutineAddress') ? lookupsOf(model) : [];
    cache.set(model, lookups);
  }
  return lookups;
}

function lookupsOf(model: CodeModel): RoutineLookup[] {
  const sites = findImportCallSites(model, { apis: new Set(['MmGetSystemRoutineAddress', 'RtlInitUnicodeString']) });
  const out: RoutineLookup[] = [];
  for (const site of sites) {
    if (site.slot.name !== 'MmGetSystemRoutineAddress') continue;
    const code = model.code(site.fn);
    const index = code.indexOf.get(site.callRva);
    const lookup: RoutineLookup = { callRva: site.callRva, function: functionName(site.fn), functionRva: site.fn.start, affected: false };
    const off = model.fileOffset(site.callRva);
    if (off !== undefined) lookup.fileOffset = off;
    if (index !== undefined) {
      let named: { name: string; rva: number } | undefined;
      for (const v of resolveBefore(model, code, index, argumentLocation(model.bitness, 1))) {
        if (v.origin.kind === 'address') named = readUnicodeString(model, v.origin.rva);
        if (named) break;
      }
      if (!named) {
        // The nearest RtlInitUnicodeString before the call in the same function supplies the name.
        const init = sites
          .filter((s) => s.slot.name === 'RtlInitUnicodeString' && s.fn.start === site.fn.start && s.callRva < site.callRva)
          .pop();
        const initIndex = init ? code.indexOf.get(init.callRva) : undefined;
        if (initIndex !== undefined) {
          for (const v of resolveBefore(model, code, initIndex, argumentLocation(model.bitness, 2))) {
            if (v.origin.kind === 'address') named = readWideString(model, v.origin.rva);
            if (named) break;
          }
        }
      }
      if (named) {
        lookup.name = named.name;
        lookup.nameRva = named.rva;
        lookup.affected = AFFECTED.has(named.name);
      }
    }
    out.push(lookup);
  }
  return out;
}

/** A UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer; } in the image. */
function readUnicodeString(model: CodeModel, rva: number): { name: string; rva: number } | undefined {
  const space = model.image.space;
  const length = space.u16(rva);
  const buffer = space.pointer(rva + model.pointerSize);
  if (length === undefined || buffer === undefined || length === 0 || length > 512) return undefined;
  const bufRva = Number(buffer - model.imageBase);
  const s = readWideString(model, bufRva, length / 2);
  return s && s.name.length > 0 ? s : undefined;
}

function readWideString(model: CodeModel, rva: number, maxChars = 256): { name: string; rva: number } | undefined {
  const bytes = model.image.space.bytesAt(rva, maxChars * 2);
  if (!bytes) return undefined;
  let name = '';
  for (let i = 0; i + 1 < bytes.length && name.length < maxChars; i += 2) {
    const c = (bytes[i] as number) | ((bytes[i + 1] as number) << 8);
    if (c === 0) break;
    if (c < 0x20 || c > 0x7e) return undefined;
    name += String.fromCharCode(c);
  }
  return name.length > 0 ? { name, rva } : undefined;
}
