/**
 * Names for the numbers Windows uses (rule book §3): pool types and flags, page protections,
 * cache types, MDL priorities, pool tags; which of them ask for executable memory, and their
 * NX twins. One table for the call-site rules (a value in a finding) and for explain (a value
 * in a bug check). Pure.
 */
import { hex } from '../pe/index.js';
import type { ArgKind } from './api-table.js';

/** POOL_TYPE (wdm.h), without the modifier bits. */
export const POOL_TYPES: Record<number, string> = {
  0: 'NonPagedPool',
  1: 'PagedPool',
  2: 'NonPagedPoolMustSucceed',
  3: 'DontUseThisType',
  4: 'NonPagedPoolCacheAligned',
  5: 'PagedPoolCacheAligned',
  6: 'NonPagedPoolCacheAlignedMustS',
  7: 'MaxPoolType',
  32: 'NonPagedPoolSession',
  33: 'PagedPoolSession',
  34: 'NonPagedPoolMustSucceedSession',
  35: 'DontUseThisTypeSession',
  36: 'NonPagedPoolCacheAlignedSession',
  37: 'PagedPoolCacheAlignedSession',
  38: 'NonPagedPoolCacheAlignedMustSSession',
  0x200: 'NonPagedPoolNx',
  0x204: 'NonPagedPoolNxCacheAligned',
  0x220: 'NonPagedPoolSessionNx',
};
export const POOL_MODIFIERS: ReadonlyArray<[number, string]> = [
  [0x8, 'POOL_QUOTA_FAIL_INSTEAD_OF_RAISE'],
  [0x10, 'POOL_RAISE_IF_ALLOCATION_FAILURE'],
  [0x100, 'POOL_COLD_ALLOCATION'],
  [0x400, 'POOL_ZERO_ALLOCATION'],
];
/** POOL_FLAGS of ExAllocatePool2/3. */
export const POOL_FLAGS: ReadonlyArray<[number, string]> = [
  [0x1, 'POOL_FLAG_USE_QUOTA'],
  [0x2, 'POOL_FLAG_UNINITIALIZED'],
  [0x4, 'POOL_FLAG_SESSION'],
  [0x8, 'POOL_FLAG_CACHE_ALIGNED'],
  [0x20, 'POOL_FLAG_RAISE_ON_FAILURE'],
  [0x40, 'POOL_FLAG_NON_PAGED'],
  [0x80, 'POOL_FLAG_NON_PAGED_EXECUTE'],
  [0x100, 'POOL_FLAG_PAGED'],
];
export const PROTECTIONS: Record<number, string> = {
  0x1: 'PAGE_NOACCESS',
  0x2: 'PAGE_READONLY',
  0x4: 'PAGE_READWRITE',
  0x8: 'PAGE_WRITECOPY',
  0x10: 'PAGE_EXECUTE',
  0x20: 'PAGE_EXECUTE_READ',
  0x40: 'PAGE_EXECUTE_READWRITE',
  0x80: 'PAGE_EXECUTE_WRITECOPY',
};
export const PROTECTION_MODIFIERS: ReadonlyArray<[number, string]> = [
  [0x100, 'PAGE_GUARD'],
  [0x200, 'PAGE_NOCACHE'],
  [0x400, 'PAGE_WRITECOMBINE'],
];
/** MEMORY_CACHING_TYPE. */
export const CACHE_TYPES: Record<number, string> = {
  0: 'MmNonCached',
  1: 'MmCached',
  2: 'MmWriteCombined',
  3: 'MmHardwareCoherentCached',
  4: 'MmNonCachedUnordered',
  5: 'MmUSWCCached',
};
export const PRIORITIES: Record<number, string> = { 0: 'LowPagePriority', 16: 'NormalPagePriority', 32: 'HighPagePriority' };
export const MDL_FLAGS: ReadonlyArray<[number, string]> = [
  [0x80000000, 'MdlMappingNoWrite'],
  [0x40000000, 'MdlMappingNoExecute'],
  [0x20000000, 'MdlMappingWithGuardPtes'],
];

/** VP_POOL_TYPE of the video port. */
const VP_POOL_TYPES: Record<number, string> = { 0: 'VpNonPagedPool', 1: 'VpPagedPool', 4: 'VpNonPagedPoolCacheAligned', 5: 'VpPagedPoolCacheAligned' };

/** The C30030 replacement of each PAGE_EXECUTE* value. */
const NX_PROTECTION: Record<number, number> = { 0x10: 0x1, 0x20: 0x2, 0x40: 0x4, 0x80: 0x8 };

/** A base name and flag names joined with " | "; undefined when a bit has no name or nothing is named. */
function withFlags(base: string | undefined, rest: number, flags: ReadonlyArray<[number, string]>): string | undefined {
  const names = base === undefined ? [] : [base];
  let left = rest >>> 0;
  for (const [bit, name] of flags) {
    if ((left & bit) !== 0) {
      names.push(name);
      left = (left & ~bit) >>> 0;
    }
  }
  return left === 0 && names.length > 0 ? names.join(' | ') : undefined;
}

/** The symbolic name of a deciding argument's value ("NonPagedPool | POOL_ZERO_ALLOCATION"), if every bit has one. */
export function valueName(kind: ArgKind, v: number): string | undefined {
  switch (kind) {
    case 'pool-type':
      return withFlags(POOL_TYPES[v & ~0x518], v & 0x518, POOL_MODIFIERS);
    case 'pool-flags':
      return withFlags(undefined, v, POOL_FLAGS);
    case 'lookaside-flags':
      return v === 0 ? '0' : withFlags(undefined, v, [[0x200, 'POOL_NX_ALLOCATION'], ...POOL_MODIFIERS]);
    case 'page-protection':
      return withFlags(PROTECTIONS[v & 0xff], v & ~0xff, PROTECTION_MODIFIERS);
    case 'cache-type':
      return CACHE_TYPES[v];
    case 'mdl-priority':
      return withFlags(PRIORITIES[v & 0x1fffffff], v & 0xe0000000, MDL_FLAGS);
    case 'vp-pool-type':
      return VP_POOL_TYPES[v];
  }
}

/** "NonPagedPool | POOL_ZERO_ALLOCATION (0x400)": the symbolic name and the hex value. */
export function symbolic(kind: ArgKind, value: bigint): string {
  const name = valueName(kind, Number(value & 0xffffffffn) >>> 0);
  const hexText = `0x${value.toString(16)}`;
  return name !== undefined ? `${name} (${hexText})` : hexText;
}

/** The value to pass instead, for the fix text. */
export function saferValue(kind: ArgKind, value: bigint): string {
  const v = Number(value & 0xffffffffn) >>> 0;
  switch (kind) {
    case 'pool-type':
      return symbolic(kind, BigInt((v | 0x200) >>> 0));
    case 'pool-flags':
      return symbolic(kind, BigInt(((v & ~0x80) | 0x40) >>> 0));
    case 'lookaside-flags':
      return symbolic(kind, BigInt((v | 0x200) >>> 0));
    case 'page-protection':
      return symbolic(kind, BigInt(nxProtectionValue(v)));
    case 'mdl-priority':
      return symbolic(kind, BigInt((v | 0x40000000) >>> 0));
    case 'cache-type':
      return 'MmNonCached (0x0) or MmWriteCombined (0x2)';
    case 'vp-pool-type':
      return 'a pageable VP_POOL_TYPE, or ExAllocatePool2 with POOL_FLAG_NON_PAGED';
  }
}

/** execPool (rule book §2): non-paged and without the NX bit. */
export const isExecutablePoolType = (pt: number): boolean => (pt & 1) === 0 && (pt & 0x200) === 0;

export function poolTypeName(pt: number): string {
  return valueName('pool-type', pt) ?? 'an unknown pool type';
}

/** The NX twin of an executable pool type: the same type with POOL_NX_ALLOCATION (0x200). */
export function nxPoolType(pt: number): string {
  const nx = (pt | 0x200) >>> 0;
  return `${poolTypeName(nx)} (${hex(nx)})`;
}

export function protectionName(p: number): string {
  return valueName('page-protection', p) ?? 'an unknown protection';
}

export const isExecutableProtection = (p: number): boolean => (p & 0xf0) !== 0;

/** The protection to pass instead of a PAGE_EXECUTE* one (C30030): the same access without execute. */
export const nxProtectionValue = (p: number): number => ((p & ~0xff) | (NX_PROTECTION[p & 0xff] ?? 0x4)) >>> 0;

export function nxProtection(p: number): string {
  const nx = nxProtectionValue(p);
  return `${protectionName(nx)} (${hex(nx)})`;
}

export function priorityName(pr: number): string {
  return valueName('mdl-priority', pr) ?? 'an unknown priority';
}

export const lacksMdlNoExecute = (pr: number): boolean => (pr & 0x40000000) === 0;

/** A pool tag as the four characters it spells in memory (little-endian): 0x484D454D → "MEMH". */
export function poolTagText(tag: bigint): string | undefined {
  const v = Number(tag & 0xffffffffn);
  if (v === 0) return undefined;
  const chars = [0, 8, 16, 24].map((shift) => (v >>> shift) & 0xff);
  if (!chars.every((c) => c >= 0x20 && c < 0x7f)) return undefined;
  return String.fromCharCode(...chars);
}
