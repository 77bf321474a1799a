import { ByteView, hex } from './bytes.js';
import { IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE } from './constants.js';
import type { IssueLog } from './issues.js';

export interface Section {
  index: number;
  /** The 8-byte name as stored (long names appear as "/nn", as the loader and Verifier see them). */
  name: string;
  /**
   * For a "/nn" name: the full name at offset nn of the COFF string table (after the symbol
   * table), when the image still has one (GNU ld keeps it unless stripped). Shown to users.
   */
  longName?: string;
  virtualSize: number;
  virtualAddress: number;
  sizeOfRawData: number;
  pointerToRawData: number;
  characteristics: number;
  /** File offset of this 40-byte section header. */
  headerOffset: number;
}

export const SECTION_HEADER_SIZE = 40;
/** The loader refuses more; it also bounds the loop against a hostile NumberOfSections. */
export const MAX_SECTIONS = 96;

export const isExecutable = (s: Section): boolean => (s.characteristics & IMAGE_SCN_MEM_EXECUTE) !== 0;
export const isWritable = (s: Section): boolean => (s.characteristics & IMAGE_SCN_MEM_WRITE) !== 0;
export const isReadable = (s: Section): boolean => (s.characteristics & IMAGE_SCN_MEM_READ) !== 0;

/** "R W X" style rights, with "-" for a missing right. */
export function rights(characteristics: number): string {
  return [
    characteristics & IMAGE_SCN_MEM_READ ? 'R' : '-',
    characteristics & IMAGE_SCN_MEM_WRITE ? 'W' : '-',
    characteristics & IMAGE_SCN_MEM_EXECUTE ? 'X' : '-',
  ].join(' ');
}

/**
 * Size of the section once mapped. The loader uses VirtualSize, falling back to
 * SizeOfRawData when VirtualSize is 0 (old linkers left it empty).
 */
export function virtualExtent(s: Section): number {
  return s.virtualSize !== 0 ? s.virtualSize : s.sizeOfRawData;
}

/** True when `rva` falls inside the section's mapped extent. */
export function containsRva(s: Section, rva: number): boolean {
  return rva >= s.virtualAddress && rva - s.virtualAddress < virtualExtent(s);
}

/** The name to show: the long name from the string table when there is one. */
export function displayName(s: Section): string {
  if (s.longName !== undefined) return s.longName;
  return s.name === '' ? '(unnamed)' : s.name;
}

/** Where the COFF symbol table is (file header PointerToSymbolTable, NumberOfSymbols). */
export interface SymbolTableRef {
  pointer: number;
  count: number;
}

const SYMBOL_SIZE = 18;
const MAX_LONG_NAME = 256;

/**
 * A "/nn" section name's full name from the COFF string table, which starts right after the
 * symbol table with its own 4-byte size. Undefined when there is no such table, the offset
 * lies outside it, or the bytes are not a printable NUL-terminated string.
 */
function longSectionName(view: ByteView, name: string, symbols: SymbolTableRef | undefined): string | undefined {
  const m = /^\/(\d{1,7})$/.exec(name);
  if (!m || !symbols || symbols.pointer === 0) return undefined;
  const table = symbols.pointer + symbols.count * SYMBOL_SIZE;
  const size = view.u32(table);
  const offset = Number(m[1]);
  if (size === undefined || offset < 4 || offset >= size || !view.has(table, size)) return undefined;
  let text = '';
  for (let i = 0; i < MAX_LONG_NAME; i++) {
    const c = view.u8(table + offset + i);
    if (c === undefined || table + offset + i >= table + size) return undefined;
    if (c === 0) return text.length > 0 ? text : undefined;
    if (c < 0x20 || c > 0x7e) return undefined;
    text += String.fromCharCode(c);
  }
  return undefined;
}

export function parseSectionTable(
  view: ByteView,
  offset: number,
  declaredCount: number,
  log: IssueLog,
  symbols?: SymbolTableRef,
): Section[] {
  let count = declaredCount;
  if (count > MAX_SECTIONS) {
    log.add('SECTION_TABLE_TRUNCATED', `NumberOfSections is ${count}; only the first ${MAX_SECTIONS} are read`);
    count = MAX_SECTIONS;
  }
  const available = Math.max(0, Math.floor((view.length - offset) / SECTION_HEADER_SIZE));
  if (available < count) {
    log.add(
      'SECTION_TABLE_TRUNCATED',
      `section table at ${hex(offset)} declares ${count} sections but the file holds ${available}`,
      offset,
    );
    count = available;
  }
  const sections: Section[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * SECTION_HEADER_SIZE;
    const section: Section = {
      index: i,
      name: view.fixedString(at, 8) ?? '',
      virtualSize: view.u32(at + 8) as number,
      virtualAddress: view.u32(at + 12) as number,
      sizeOfRawData: view.u32(at + 16) as number,
      pointerToRawData: view.u32(at + 20) as number,
      characteristics: view.u32(at + 36) as number,
      headerOffset: at,
    };
    const longName = longSectionName(view, section.name, symbols);
    if (longName !== undefined) section.longName = longName;
    if (section.sizeOfRawData > 0 && !view.has(section.pointerToRawData, section.sizeOfRawData)) {
      log.add(
        'SECTION_DATA_OUTSIDE_FILE',
        `section ${displayName(section)} raw data ${hex(section.pointerToRawData)}+${hex(section.sizeOfRawData)} runs past the end of the file (${hex(view.length)})`,
        at + 16,
      );
    }
    sections.push(section);
  }
  checkOverlaps(sections, log);
  return sections;
}

function checkOverlaps(sections: Section[], log: IssueLog): void {
  const sorted = [...sections].sort((a, b) => a.virtualAddress - b.virtualAddress);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as Section;
    const cur = sorted[i] as Section;
    if (prev.virtualAddress + virtualExtent(prev) > cur.virtualAddress) {
      log.add(
        'SECTIONS_OVERLAP',
        `sections ${displayName(prev)} (${hex(prev.virtualAddress)}+${hex(virtualExtent(prev))}) and ${displayName(cur)} (${hex(cur.virtualAddress)}) overlap in memory`,
        cur.headerOffset,
      );
    }
  }
}
