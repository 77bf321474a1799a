import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';

export interface DebugEntry {
  type: number;
  sizeOfData: number;
  addressOfRawData: number;
  pointerToRawData: number;
}

export interface CodeViewInfo {
  /** "RSDS" PDB 7.0 record. */
  pdbPath: string;
  guid: string;
  age: number;
}

export interface DebugInfo {
  entries: DebugEntry[];
  codeView?: CodeViewInfo;
}

const IMAGE_DEBUG_TYPE_CODEVIEW = 2;
const ENTRY_SIZE = 28;
const MAX_ENTRIES = 64;

export function parseDebugDirectory(space: AddressSpace): DebugInfo | undefined {
  const dir = space.directory(DirectoryIndex.debug);
  if (!dir) return undefined;
  const entries: DebugEntry[] = [];
  const count = Math.min(Math.floor(dir.size / ENTRY_SIZE), MAX_ENTRIES);
  for (let i = 0; i < count; i++) {
    const at = dir.virtualAddress + i * ENTRY_SIZE;
    const type = space.u32(at + 12);
    const sizeOfData = space.u32(at + 16);
    const addressOfRawData = space.u32(at + 20);
    const pointerToRawData = space.u32(at + 24);
    if (type === undefined || sizeOfData === undefined || addressOfRawData === undefined || pointerToRawData === undefined) {
      space.log.add('DEBUG_DIRECTORY_MALFORMED', `debug directory entry ${i} at RVA ${hex(at)} is outside the image`);
      break;
    }
    entries.push({ type, sizeOfData, addressOfRawData, pointerToRawData });
  }
  const info: DebugInfo = { entries };
  const cv = entries.find((e) => e.type === IMAGE_DEBUG_TYPE_CODEVIEW);
  if (cv) {
    const codeView = readCodeView(space, cv);
    if (codeView) info.codeView = codeView;
  }
  return info;
}

function readCodeView(space: AddressSpace, entry: DebugEntry): CodeViewInfo | undefined {
  const view = space.view;
  const at = entry.pointerToRawData;
  if (view.u32(at) !== 0x53445352 /* "RSDS" */ || !view.has(at, 24)) return undefined;
  const g = view.slice(at + 4, 16) as Uint8Array;
  const h = (i: number) => (g[i] as number).toString(16).padStart(2, '0');
  const guid =
    [3, 2, 1, 0].map(h).join('') +
    '-' +
    [5, 4].map(h).join('') +
    '-' +
    [7, 6].map(h).join('') +
    '-' +
    [8, 9].map(h).join('') +
    '-' +
    [10, 11, 12, 13, 14, 15].map(h).join('');
  return { pdbPath: view.cString(at + 24, 1024) ?? '', guid: guid.toUpperCase(), age: view.u32(at + 20) as number };
}
