import { ByteView, hex } from './bytes.js';
import { DIRECTORY_NAMES, IMAGE_NT_OPTIONAL_HDR32_MAGIC, IMAGE_NT_OPTIONAL_HDR64_MAGIC } from './constants.js';
import type { IssueLog, PeIssue } from './issues.js';

export interface FileHeader {
  /** Offset of the COFF file header (just after "PE\0\0"). */
  offset: number;
  machine: number;
  numberOfSections: number;
  timeDateStamp: number;
  pointerToSymbolTable: number;
  numberOfSymbols: number;
  sizeOfOptionalHeader: number;
  characteristics: number;
}

export interface OptionalHeader {
  offset: number;
  magic: number;
  /** PE32+ (64-bit) image. */
  is64: boolean;
  majorLinkerVersion: number;
  minorLinkerVersion: number;
  sizeOfCode: number;
  addressOfEntryPoint: number;
  baseOfCode: number;
  imageBase: bigint;
  sectionAlignment: number;
  fileAlignment: number;
  majorOperatingSystemVersion: number;
  minorOperatingSystemVersion: number;
  majorSubsystemVersion: number;
  minorSubsystemVersion: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  checkSum: number;
  subsystem: number;
  dllCharacteristics: number;
  numberOfRvaAndSizes: number;
}

export interface DataDirectory {
  index: number;
  name: string;
  /** File offset of this directory entry in the optional header. */
  entryOffset: number;
  virtualAddress: number;
  size: number;
}

export interface Headers {
  eLfanew: number;
  fileHeader: FileHeader;
  optionalHeader: OptionalHeader;
  dataDirectories: DataDirectory[];
  sectionTableOffset: number;
}

const DOS_HEADER_SIZE = 0x40;
const FILE_HEADER_SIZE = 20;
/** Bytes of the optional header before the data directories. */
const OPTIONAL_FIXED_SIZE = { pe32: 96, pe32plus: 112 } as const;

/** Parses DOS, COFF and optional headers. Returns a fatal issue when there is no PE image to analyse. */
export function parseHeaders(view: ByteView, log: IssueLog): Headers | PeIssue {
  if (view.u16(0) !== 0x5a4d) return { code: 'NOT_MZ', message: 'no MZ signature at offset 0: not a PE file', offset: 0 };
  if (view.length < DOS_HEADER_SIZE) {
    return { code: 'FILE_TOO_SMALL', message: `file is ${view.length} bytes, smaller than a DOS header (64 bytes)` };
  }
  const eLfanew = view.u32(0x3c) as number;
  if (!view.has(eLfanew, 4 + FILE_HEADER_SIZE)) {
    return {
      code: 'BAD_E_LFANEW',
      message: `e_lfanew ${hex(eLfanew)} points outside the ${view.length}-byte file`,
      offset: 0x3c,
    };
  }
  if (view.u32(eLfanew) !== 0x00004550) {
    return { code: 'NOT_PE_SIGNATURE', message: `no "PE\\0\\0" signature at e_lfanew ${hex(eLfanew)}`, offset: eLfanew };
  }
  const fh = eLfanew + 4;
  const fileHeader: FileHeader = {
    offset: fh,
    machine: view.u16(fh) as number,
    numberOfSections: view.u16(fh + 2) as number,
    timeDateStamp: view.u32(fh + 4) as number,
    pointerToSymbolTable: view.u32(fh + 8) as number,
    numberOfSymbols: view.u32(fh + 12) as number,
    sizeOfOptionalHeader: view.u16(fh + 16) as number,
    characteristics: view.u16(fh + 18) as number,
  };
  const oh = fh + FILE_HEADER_SIZE;
  const magic = view.u16(oh);
  if (magic === undefined) {
    return { code: 'OPTIONAL_HEADER_TRUNCATED', message: `optional header at ${hex(oh)} is cut off`, offset: oh };
  }
  if (magic !== IMAGE_NT_OPTIONAL_HDR32_MAGIC && magic !== IMAGE_NT_OPTIONAL_HDR64_MAGIC) {
    return {
      code: 'BAD_OPTIONAL_HEADER_MAGIC',
      message: `optional header magic ${hex(magic)} is neither PE32 (0x10B) nor PE32+ (0x20B)`,
      offset: oh,
    };
  }
  const is64 = magic === IMAGE_NT_OPTIONAL_HDR64_MAGIC;
  const fixed = is64 ? OPTIONAL_FIXED_SIZE.pe32plus : OPTIONAL_FIXED_SIZE.pe32;
  if (!view.has(oh, fixed)) {
    return {
      code: 'OPTIONAL_HEADER_TRUNCATED',
      message: `optional header at ${hex(oh)} needs ${fixed} bytes, file ends at ${hex(view.length)}`,
      offset: oh,
    };
  }
  // Up to DllCharacteristics both layouts share offsets (PE32's BaseOfData + 4-byte ImageBase
  // take the room of PE32+'s 8-byte ImageBase); the four stack/heap sizes then widen to 8 bytes.
  const rvaCountOffset = oh + (is64 ? 108 : 92);
  const optionalHeader: OptionalHeader = {
    offset: oh,
    magic,
    is64,
    majorLinkerVersion: view.u8(oh + 2) as number,
    minorLinkerVersion: view.u8(oh + 3) as number,
    sizeOfCode: view.u32(oh + 4) as number,
    addressOfEntryPoint: view.u32(oh + 16) as number,
    baseOfCode: view.u32(oh + 20) as number,
    imageBase: is64 ? (view.u64(oh + 24) as bigint) : BigInt(view.u32(oh + 28) as number),
    sectionAlignment: view.u32(oh + 32) as number,
    fileAlignment: view.u32(oh + 36) as number,
    majorOperatingSystemVersion: view.u16(oh + 40) as number,
    minorOperatingSystemVersion: view.u16(oh + 42) as number,
    majorSubsystemVersion: view.u16(oh + 48) as number,
    minorSubsystemVersion: view.u16(oh + 50) as number,
    sizeOfImage: view.u32(oh + 56) as number,
    sizeOfHeaders: view.u32(oh + 60) as number,
    checkSum: view.u32(oh + 64) as number,
    subsystem: view.u16(oh + 68) as number,
    dllCharacteristics: view.u16(oh + 70) as number,
    numberOfRvaAndSizes: view.u32(rvaCountOffset) as number,
  };
  let dirCount = optionalHeader.numberOfRvaAndSizes;
  if (dirCount > 16) {
    log.add(
      'TOO_MANY_DATA_DIRECTORIES',
      `NumberOfRvaAndSizes is ${dirCount}; only the 16 defined directories are read`,
      rvaCountOffset,
    );
    dirCount = 16;
  }
  const dirStart = oh + fixed;
  const dataDirectories: DataDirectory[] = [];
  for (let i = 0; i < dirCount; i++) {
    const at = dirStart + i * 8;
    // Directories must also fit in SizeOfOptionalHeader; the loader ignores the rest.
    if (8 * (i + 1) + fixed > fileHeader.sizeOfOptionalHeader || !view.has(at, 8)) {
      log.add(
        'OPTIONAL_HEADER_TRUNCATED',
        `data directory ${i} (${DIRECTORY_NAMES[i]}) lies outside the optional header or file; directories from ${i} on are ignored`,
        at,
      );
      break;
    }
    dataDirectories.push({
      index: i,
      name: DIRECTORY_NAMES[i] as string,
      entryOffset: at,
      virtualAddress: view.u32(at) as number,
      size: view.u32(at + 4) as number,
    });
  }
  return { eLfanew, fileHeader, optionalHeader, dataDirectories, sectionTableOffset: oh + fileHeader.sizeOfOptionalHeader };
}
