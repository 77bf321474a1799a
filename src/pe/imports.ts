import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';

export interface ImportedFunction {
  /** Name, or undefined when imported by ordinal. */
  name?: string;
  ordinal?: number;
  hint?: number;
  /** RVA of the hint/name entry (named imports): a 2-byte hint, then the name. */
  hintNameRva?: number;
  /** RVA of this function's IAT slot: code calls through `[ImageBase + iatRva]`. */
  iatRva: number;
}

export interface ImportedModule {
  dll: string;
  delayLoaded: boolean;
  /** RVA of the descriptor (20-byte IMAGE_IMPORT_DESCRIPTOR or 32-byte delay descriptor). */
  descriptorRva: number;
  /** FirstThunk: the IAT array the loader fills. */
  iatRva: number;
  /** The lookup table (OriginalFirstThunk / delay INT) the names were read from; = iatRva when absent. */
  lookupRva: number;
  /** RVA of the DLL name string. */
  nameRva: number;
  functions: ImportedFunction[];
}

const MAX_MODULES = 4096;
const MAX_FUNCTIONS_PER_MODULE = 65536;
/**
 * Imported functions read from one table in all (a hostile table of 4,096 descriptors that
 * all point at a 65,536-entry lookup table would otherwise be 268 million entries).
 */
const MAX_FUNCTIONS_IN_ALL = 65536;

interface ThunkBudget {
  left: number;
}

export function parseImports(space: AddressSpace): ImportedModule[] {
  const dir = space.directory(DirectoryIndex.import);
  if (!dir) return [];
  const modules: ImportedModule[] = [];
  const budget: ThunkBudget = { left: MAX_FUNCTIONS_IN_ALL };
  for (let i = 0; i < MAX_MODULES && budget.left > 0; i++) {
    const at = dir.virtualAddress + i * 20;
    const lookup = space.u32(at);
    const nameRva = space.u32(at + 12);
    const firstThunk = space.u32(at + 16);
    if (lookup === undefined || nameRva === undefined || firstThunk === undefined) {
      space.log.add('IMPORT_TABLE_MALFORMED', `import descriptor ${i} at RVA ${hex(at)} is outside the image`);
      break;
    }
    if (lookup === 0 && nameRva === 0 && firstThunk === 0) break;
    const dll = space.cString(nameRva, 256);
    if (dll === undefined) {
      space.log.add('IMPORT_TABLE_MALFORMED', `import descriptor ${i}: DLL name RVA ${hex(nameRva)} is unreadable`);
      continue;
    }
    // Bound (pre-resolved) imports keep names only in the lookup table; fall back to the IAT.
    const functions = readThunks(space, lookup !== 0 ? lookup : firstThunk, firstThunk, dll, false, budget);
    modules.push({
      dll,
      delayLoaded: false,
      descriptorRva: at,
      iatRva: firstThunk,
      lookupRva: lookup !== 0 ? lookup : firstThunk,
      nameRva,
      functions,
    });
  }
  if (budget.left <= 0) space.log.add('TOO_MANY_IMPORTS', `more than ${MAX_FUNCTIONS_IN_ALL} imported functions in all; the rest were not read`);
  return modules;
}

export function parseDelayImports(space: AddressSpace): ImportedModule[] {
  const dir = space.directory(DirectoryIndex.delayImport);
  if (!dir) return [];
  const modules: ImportedModule[] = [];
  const imageBase = Number(space.imageBase);
  const budget: ThunkBudget = { left: MAX_FUNCTIONS_IN_ALL };
  for (let i = 0; i < MAX_MODULES && budget.left > 0; i++) {
    const at = dir.virtualAddress + i * 32;
    const attributes = space.u32(at);
    const rawName = space.u32(at + 4);
    const rawIat = space.u32(at + 12);
    const rawInt = space.u32(at + 16);
    if (attributes === undefined || rawName === undefined || rawIat === undefined || rawInt === undefined) {
      space.log.add('DELAY_IMPORT_TABLE_MALFORMED', `delay-import descriptor ${i} at RVA ${hex(at)} is outside the image`);
      break;
    }
    if (rawName === 0 && rawIat === 0 && rawInt === 0) break;
    // Attribute bit 0 clear: old (VC6) descriptors hold VAs instead of RVAs.
    const toRva = (v: number) => ((attributes & 1) === 0 && v !== 0 ? (v - imageBase) >>> 0 : v);
    const dll = space.cString(toRva(rawName), 256);
    if (dll === undefined) {
      space.log.add('DELAY_IMPORT_TABLE_MALFORMED', `delay-import descriptor ${i}: DLL name is unreadable`);
      continue;
    }
    const functions = readThunks(space, toRva(rawInt), toRva(rawIat), dll, true, budget);
    modules.push({
      dll,
      delayLoaded: true,
      descriptorRva: at,
      iatRva: toRva(rawIat),
      lookupRva: toRva(rawInt),
      nameRva: toRva(rawName),
      functions,
    });
  }
  if (budget.left <= 0) space.log.add('TOO_MANY_IMPORTS', `more than ${MAX_FUNCTIONS_IN_ALL} delay-imported functions in all; the rest were not read`);
  return modules;
}

function readThunks(
  space: AddressSpace,
  lookupRva: number,
  iatRva: number,
  dll: string,
  delay: boolean,
  budget: ThunkBudget,
): ImportedFunction[] {
  const size = space.pointerSize;
  const ordinalFlag = size === 8 ? 1n << 63n : 1n << 31n;
  const functions: ImportedFunction[] = [];
  for (let j = 0; j < MAX_FUNCTIONS_PER_MODULE; j++) {
    if (budget.left-- <= 0) break; // reported once by the caller
    const thunk = space.pointer(lookupRva + j * size);
    if (thunk === undefined) {
      space.log.add(
        delay ? 'DELAY_IMPORT_TABLE_MALFORMED' : 'IMPORT_TABLE_MALFORMED',
        `import lookup table of ${dll} at RVA ${hex(lookupRva)} runs outside the image`,
      );
      break;
    }
    if (thunk === 0n) break;
    const slot = iatRva + j * size;
    if ((thunk & ordinalFlag) !== 0n) {
      functions.push({ ordinal: Number(thunk & 0xffffn), iatRva: slot });
      continue;
    }
    const hintRva = Number(thunk & 0x7fffffffn);
    const name = space.cString(hintRva + 2, 512);
    if (name === undefined) {
      space.log.add(
        delay ? 'DELAY_IMPORT_TABLE_MALFORMED' : 'IMPORT_TABLE_MALFORMED',
        `import ${j} of ${dll}: name at RVA ${hex(hintRva)} is unreadable`,
      );
      functions.push({ iatRva: slot });
      continue;
    }
    functions.push({ name, hint: space.u16(hintRva) ?? 0, hintNameRva: hintRva, iatRva: slot });
  }
  return functions;
}
