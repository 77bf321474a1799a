import { ByteView, hex } from './bytes.js';
import { IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE } from './constants.js';
import type { IssueLog } from './issues.js';

export interface Section {
  index: number;
  /** The 8-byte name as stored (long names appear as "/nn", as the loader and Verifier see them). */
  name: string;
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

export function displayName(s: Section): string {
  return s.name === '' ? '(unnamed)' : s.name;
}

export function parseSectionTable(view: ByteView, offset: number, declaredCount: number, log: IssueLog): Section[] {
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
