/** PE/COFF constants, spelled as in the PE specification and MinGW-w64 winnt.h. */

/** Section characteristics. */
export const IMAGE_SCN_CNT_CODE = 0x00000020;
export const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040;
export const IMAGE_SCN_CNT_UNINITIALIZED_DATA = 0x00000080;
export const IMAGE_SCN_MEM_DISCARDABLE = 0x02000000;
export const IMAGE_SCN_MEM_NOT_PAGED = 0x08000000;
export const IMAGE_SCN_MEM_SHARED = 0x10000000;
export const IMAGE_SCN_MEM_EXECUTE = 0x20000000;
export const IMAGE_SCN_MEM_READ = 0x40000000;
export const IMAGE_SCN_MEM_WRITE = 0x80000000;

/** Optional header magic. */
export const IMAGE_NT_OPTIONAL_HDR32_MAGIC = 0x10b;
export const IMAGE_NT_OPTIONAL_HDR64_MAGIC = 0x20b;

/** File header characteristics. */
export const IMAGE_FILE_RELOCS_STRIPPED = 0x0001;
export const IMAGE_FILE_EXECUTABLE_IMAGE = 0x0002;
export const IMAGE_FILE_DLL = 0x2000;

/** DllCharacteristics. */
export const IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE = 0x0040;
export const IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY = 0x0080;
export const IMAGE_DLLCHARACTERISTICS_NX_COMPAT = 0x0100;
export const IMAGE_DLLCHARACTERISTICS_WDM_DRIVER = 0x2000;
export const IMAGE_DLLCHARACTERISTICS_GUARD_CF = 0x4000;

/** Data directory indices. */
export const DirectoryIndex = {
  export: 0,
  import: 1,
  resource: 2,
  exception: 3,
  security: 4,
  baseReloc: 5,
  debug: 6,
  architecture: 7,
  globalPtr: 8,
  tls: 9,
  loadConfig: 10,
  boundImport: 11,
  iat: 12,
  delayImport: 13,
  clrRuntime: 14,
  reserved: 15,
} as const;

export const DIRECTORY_NAMES = [
  'export',
  'import',
  'resource',
  'exception',
  'security',
  'baseReloc',
  'debug',
  'architecture',
  'globalPtr',
  'tls',
  'loadConfig',
  'boundImport',
  'iat',
  'delayImport',
  'clrRuntime',
  'reserved',
] as const;

/** Base relocation types (IMAGE_REL_BASED_*), with the number of bytes each one patches. */
export const IMAGE_REL_BASED_ABSOLUTE = 0;
export const IMAGE_REL_BASED_HIGH = 1;
export const IMAGE_REL_BASED_LOW = 2;
export const IMAGE_REL_BASED_HIGHLOW = 3;
export const IMAGE_REL_BASED_HIGHADJ = 4;
export const IMAGE_REL_BASED_ARM_MOV32 = 5;
export const IMAGE_REL_BASED_THUMB_MOV32 = 7;
export const IMAGE_REL_BASED_DIR64 = 10;

export const RELOCATION_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'ABSOLUTE',
  1: 'HIGH',
  2: 'LOW',
  3: 'HIGHLOW',
  4: 'HIGHADJ',
  5: 'ARM_MOV32',
  6: 'RESERVED',
  7: 'THUMB_MOV32',
  8: 'RISCV_LOW12S',
  9: 'MIPS_JMPADDR16',
  10: 'DIR64',
};

/** Bytes patched by a relocation type; undefined for types whose width is not a plain field. */
export const RELOCATION_WIDTH: Readonly<Record<number, number>> = {
  1: 2,
  2: 2,
  3: 4,
  5: 8,
  7: 8,
  10: 8,
};

/** Machine types we name. Call-site analysis supports x86, x64 and ARM64. */
export const MACHINE_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'unknown',
  0x014c: 'x86',
  0x8664: 'x64',
  0xaa64: 'arm64',
  0xa641: 'arm64ec',
  0x01c0: 'arm',
  0x01c2: 'thumb',
  0x01c4: 'armnt',
  0x0200: 'ia64',
  0x0ebc: 'ebc',
  0x5032: 'riscv32',
  0x5064: 'riscv64',
  0x6232: 'loongarch32',
  0x6264: 'loongarch64',
};

export const SUBSYSTEM_NAMES: Readonly<Record<number, string>> = {
  0: 'unknown',
  1: 'native',
  2: 'windows-gui',
  3: 'windows-cui',
  5: 'os2-cui',
  7: 'posix-cui',
  8: 'native-windows',
  9: 'windows-ce-gui',
  10: 'efi-application',
  11: 'efi-boot-service-driver',
  12: 'efi-runtime-driver',
  13: 'efi-rom',
  14: 'xbox',
  16: 'windows-boot-application',
};

export const IMAGE_SUBSYSTEM_NATIVE = 1;
export const IMAGE_SUBSYSTEM_EFI_APPLICATION = 10;
export const IMAGE_SUBSYSTEM_EFI_ROM = 13;

/** The size of a page the loader protects separately, and of the alignment HVCI needs. */
export const PAGE_SIZE = 0x1000;
