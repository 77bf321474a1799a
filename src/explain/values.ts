/**
 * Names for the numbers Windows prints (rule book §3): pool types, page protections, MDL
 * priorities, pool tags. Pure.
 */
import { MDL_FLAGS, POOL_MODIFIERS, POOL_TYPES, PRIORITIES, PROTECTION_MODIFIERS, PROTECTIONS } from '../analysis/api-table.js';

/** The C30030 replacement of each PAGE_EXECUTE* value. */
const NX_PROTECTION: Record<number, number> = { 0x10: 0x1, 0x20: 0x2, 0x40: 0x4, 0x80: 0x8 };

export const hexOf = (v: bigint | number): string => `0x${v.toString(16).toUpperCase()}`;

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

/** execPool (rule book §2): non-paged and without the NX bit. */
export const isExecutablePoolType = (pt: number): boolean => (pt & 1) === 0 && (pt & 0x200) === 0;

export function poolTypeName(pt: number): string {
  return withFlags(POOL_TYPES[pt & ~0x518], pt & 0x518, POOL_MODIFIERS) ?? 'an unknown pool type';
}

/** The NX twin of an executable pool type: the same type with POOL_NX_ALLOCATION (0x200). */
export function nxPoolType(pt: number): string {
  const nx = (pt | 0x200) >>> 0;
  return `${poolTypeName(nx)} (${hexOf(nx)})`;
}

export function protectionName(p: number): string {
  return withFlags(PROTECTIONS[p & 0xff], p & ~0xff, PROTECTION_MODIFIERS) ?? 'an unknown protection';
}

export const isExecutableProtection = (p: number): boolean => (p & 0xf0) !== 0;

export function nxProtection(p: number): string {
  const nx = ((p & ~0xff) | (NX_PROTECTION[p & 0xff] ?? 0x4)) >>> 0;
  return `${protectionName(nx)} (${hexOf(nx)})`;
}

export function priorityName(pr: number): string {
  return withFlags(PRIORITIES[pr & 0x1fffffff], pr & 0xe0000000, MDL_FLAGS) ?? 'an unknown priority';
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
