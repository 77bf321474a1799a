/**
 * The value algebra of the backward data flow: where a value comes from (a constant, a
 * parameter, a global, an address), the masks applied to it on the way (value = (origin & and) | or),
 * the values OR'ed into it, and the Windows-version tests on its path. Pure data and functions.
 */
import { hex } from '../pe/index.js';

export type Origin =
  | { kind: 'const'; value: bigint }
  /** A parameter of the containing function (1-based), as received at its entry. */
  | { kind: 'param'; index: number }
  /** Loaded from image memory at `rva`. */
  | { kind: 'global'; rva: number; size: number }
  /** The address of something in the image (lea / push offset). */
  | { kind: 'address'; rva: number }
  | { kind: 'unknown'; reason: string };

export interface Value {
  origin: Origin;
  /** Applied after the origin: value = (origin & andMask) | orBits. Identity for constants (already folded). */
  andMask: bigint;
  orBits: bigint;
  /** RVAs of the instructions that produced the value, earliest first. */
  trace: number[];
  /**
   * Values OR'ed into this one that are not constants (`or ecx, [global]`): the full value
   * is this one | each of these. Constants are folded into `orBits` instead.
   */
  merged?: Value[];
  /**
   * Windows-version tests the path to this value went through (a setcc, cmov or sbb that
   * chose it, or a conditional jump on the way): other conditions are not recorded, since
   * only a version test can make a path impossible on every Windows that has Memory Integrity.
   */
  conditions?: Condition[];
}

/** A Windows-version test on the path to a value. */
export interface Condition {
  /** The instruction that chose: setcc, cmovcc, sbb or the conditional jump. */
  rva: number;
  /** The cmp/test that set the flags it read. */
  testRva: number;
  /** Whether the condition code held on this path (for sbb: whether the carry was set). */
  held: boolean;
  /** What was tested: "NTDDI 0xa000000" (a comparison with a version constant) or "RtlIsNtDdiVersionAvailable(0x6020000)". */
  version: string;
  /**
   * true: every Windows that has Memory Integrity (Windows 10 and later) takes this path;
   * false: none does; undefined: the binary does not tell (the compared value is set at run time,
   * or the version API asks about a Windows 10 release later than 1507: see `api`).
   */
  onHvci?: boolean;
  /** For a version API's result: the version it asks about (NTDDI) and whether this path is the one where it returned TRUE. */
  api?: { name: string; ntddi: number; returnedTrue: boolean };
}

/** Where a value lives: a general-purpose register family, or memory at [base + off]. */
export type Location = { k: 'reg'; fam: number } | { k: 'mem'; base: number; off: number; size: number };

export const ALL = 0xffffffffffffffffn;

export const unknown = (reason: string, trace: number[] = []): Value => ({ origin: { kind: 'unknown', reason }, andMask: ALL, orBits: 0n, trace });

export function sizeMask(bytes: number): bigint {
  return bytes >= 8 || bytes <= 0 ? ALL : (1n << BigInt(bytes * 8)) - 1n;
}

export function locKey(l: Location): string {
  return l.k === 'reg' ? `r${l.fam}` : `m${l.base}:${l.off}:${l.size}`;
}

export interface Transform {
  and: bigint;
  or: bigint;
}

export function describe(v: Value): string {
  const o = v.origin;
  return o.kind === 'param' ? `parameter ${o.index}` : o.kind === 'global' ? `global ${hex(o.rva)}` : o.kind === 'unknown' ? o.reason : o.kind;
}

export function constant(value: bigint, trace: number[]): Value {
  return { origin: { kind: 'const', value }, andMask: ALL, orBits: 0n, trace };
}

export function param(index: number): Value {
  return { origin: { kind: 'param', index }, andMask: ALL, orBits: 0n, trace: [] };
}

/** Earlier op (x & a) | o, followed by the later transform t. */
export function compose(a: bigint, o: bigint, t: Transform): Transform {
  return { and: a & t.and, or: (o & t.and) | t.or };
}

/** Applies the transform collected on the way back; folds constants; adds the path's version conditions. */
export function finish(v: Value, t: Transform, trace: number[], conds: readonly Condition[] = []): Value {
  const and = v.andMask & t.and;
  const or = (v.orBits & t.and) | t.or;
  const conditions = joinConditions(v.conditions, conds);
  if (v.origin.kind === 'const' && !v.merged) {
    const value = ((v.origin.value & t.and) | t.or) & ALL;
    return { origin: { kind: 'const', value }, andMask: ALL, orBits: 0n, trace, ...(conditions ? { conditions } : {}) };
  }
  const out: Value = { origin: v.origin, andMask: and, orBits: or, trace, ...(conditions ? { conditions } : {}) };
  // A later `and` masks the merged parts too; a later `or` is already in orBits.
  if (v.merged) out.merged = v.merged.map((m) => finish(m, { and: t.and, or: 0n }, m.trace));
  return out;
}

export function joinConditions(a: readonly Condition[] | undefined, b: readonly Condition[]): Condition[] | undefined {
  if (!a?.length && b.length === 0) return undefined;
  const out: Condition[] = [];
  const seen = new Set<string>();
  for (const c of [...(a ?? []), ...b]) {
    const key = `${c.rva}|${c.held}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** a | b: constants fold into the other side's orBits; two unknown sides are kept as a merge. */
export function orValues(a: Value, b: Value): Value {
  const trace = [...a.trace, ...b.trace];
  if (a.origin.kind === 'const' && !a.merged && b.origin.kind === 'const' && !b.merged) {
    const conditions = joinConditions(a.conditions, b.conditions ?? []);
    return { ...constant(a.origin.value | b.origin.value, trace), ...(conditions ? { conditions } : {}) };
  }
  const joined = joinConditions(a.conditions, b.conditions ?? []);
  const withConditions = joined ? { conditions: joined } : {};
  if (b.origin.kind === 'const' && !b.merged) return { ...a, orBits: a.orBits | b.origin.value, trace, ...withConditions };
  if (a.origin.kind === 'const' && !a.merged) return { ...b, orBits: b.orBits | a.origin.value, trace, ...withConditions };
  const { merged: bMerged, ...bOwn } = b;
  return { ...a, merged: [...(a.merged ?? []), bOwn, ...(bMerged ?? [])], trace, ...withConditions };
}

export function globalLoad(rva: number, size: number, ...at: number[]): Value {
  return { origin: { kind: 'global', rva, size }, andMask: ALL, orBits: 0n, trace: at };
}

export function valueKey(v: Value): string {
  const conds = v.conditions?.map((c) => `${c.rva}:${c.held}`).join(',') ?? '';
  const own = `${JSON.stringify(v.origin, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}|${v.andMask}|${v.orBits}|${conds}`;
  return v.merged ? `${own}|${v.merged.map(valueKey).join('+')}` : own;
}
