import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';

export interface ExportedSymbol {
  name?: string;
  ordinal: number;
  /** RVA of the code or data; undefined for a forwarder. */
  rva?: number;
  forwarder?: string;
}

export interface Exports {
  dllName?: string;
  symbols: ExportedSymbol[];
}

const MAX_EXPORTS = 65536;

export function parseExports(space: AddressSpace): Exports | undefined {
  const dir = space.directory(DirectoryIndex.export);
  if (!dir) return undefined;
  const base = dir.virtualAddress;
  const nameRva = space.u32(base + 12);
  const ordinalBase = space.u32(base + 16);
  const functionCount = space.u32(base + 20);
  const nameCount = space.u32(base + 24);
  const functionsRva = space.u32(base + 28);
  const namesRva = space.u32(base + 32);
  const ordinalsRva = space.u32(base + 36);
  if (
    nameRva === undefined ||
    ordinalBase === undefined ||
    functionCount === undefined ||
    nameCount === undefined ||
    functionsRva === undefined ||
    namesRva === undefined ||
    ordinalsRva === undefined
  ) {
    space.log.add('EXPORT_TABLE_MALFORMED', `export directory at RVA ${hex(base)} is cut off`);
    return undefined;
  }
  if (functionCount > MAX_EXPORTS || nameCount > MAX_EXPORTS) {
    space.log.add(
      'EXPORT_TABLE_MALFORMED',
      `export directory claims ${functionCount} functions and ${nameCount} names; at most ${MAX_EXPORTS} are read`,
    );
  }
  const names = new Map<number, string>();
  for (let i = 0; i < Math.min(nameCount, MAX_EXPORTS); i++) {
    const n = space.u32(namesRva + 4 * i);
    const idx = space.u16(ordinalsRva + 2 * i);
    if (n === undefined || idx === undefined) {
      space.log.add('EXPORT_TABLE_MALFORMED', `export name table at RVA ${hex(namesRva)} runs outside the image`);
      break;
    }
    const name = space.cString(n, 512);
    if (name !== undefined && !names.has(idx)) names.set(idx, name);
  }
  const symbols: ExportedSymbol[] = [];
  for (let i = 0; i < Math.min(functionCount, MAX_EXPORTS); i++) {
    const rva = space.u32(functionsRva + 4 * i);
    if (rva === undefined) {
      space.log.add('EXPORT_TABLE_MALFORMED', `export address table at RVA ${hex(functionsRva)} runs outside the image`);
      break;
    }
    if (rva === 0) continue;
    const symbol: ExportedSymbol = { ordinal: ordinalBase + i };
    const name = names.get(i);
    if (name !== undefined) symbol.name = name;
    // An address inside the export directory is a forwarder string ("NTOSKRNL.KeFoo").
    if (rva >= base && rva < base + dir.size) symbol.forwarder = space.cString(rva, 512) ?? '';
    else symbol.rva = rva;
    symbols.push(symbol);
  }
  const dllName = space.cString(nameRva, 256);
  return dllName === undefined ? { symbols } : { dllName, symbols };
}
