import type { Pdb } from './pdb.js';

const HIDDEN_LINE = 0xf00000;

/** Where an address comes from in the source. */
export interface SourceLocation {
  /** The file as the PDB names it (a build machine's path, such as D:\a\drv\src\rx.c). */
  file?: string;
  line?: number;
  /** The enclosing function (procedure symbol, else the nearest public function symbol before it). */
  function?: string;
}

export interface PdbSourceIndex {
  at(rva: number): SourceLocation | undefined;
  /** The function that starts exactly at `rva`, if the PDB names one. */
  functionAt(rva: number): string | undefined;
}

interface Span {
  start: number;
  end: number;
}
interface LineSpan extends Span {
  file: string;
  line: number;
}
interface NamedSpan extends Span {
  name: string;
}

/**
 * An address → source index over a PDB. `sectionRvas[i]` is the RVA of section i + 1 (the
 * image's section table, which a matching PDB shares): PDB addresses are section:offset.
 */
export function sourceIndexOf(pdb: Pdb, sectionRvas: readonly number[]): PdbSourceIndex {
  const rvaOf = (segment: number, offset: number): number | undefined => {
    const base = sectionRvas[segment - 1];
    return base === undefined ? undefined : base + offset;
  };
  const lines: LineSpan[] = [];
  const inlined: LineSpan[] = [];
  const procedures: NamedSpan[] = [];
  for (const m of pdb.modules) {
    for (const l of m.lines) {
      // Line 0 and the 0xFEEFEE "hidden" lines mark compiler-made code: no source line.
      if (l.length === 0 || l.line === 0 || l.line >= HIDDEN_LINE) continue;
      const start = rvaOf(l.segment, l.offset);
      if (start !== undefined) lines.push({ start, end: start + l.length, file: l.file, line: l.line });
    }
    for (const site of m.inlined) {
      for (const r of site.ranges) {
        const start = rvaOf(r.segment, r.offset);
        if (start !== undefined) inlined.push({ start, end: start + r.length, file: r.file, line: r.line });
      }
    }
    for (const p of m.procedures) {
      const start = rvaOf(p.segment, p.offset);
      // A damaged PDB can give an empty name: that is no name (reports never carry "").
      if (start !== undefined && p.name !== '') procedures.push({ start, end: start + Math.max(1, p.length), name: p.name });
    }
  }
  const publics = pdb.publics
    .filter((p) => p.isFunction && p.name !== '')
    .flatMap((p) => {
      const start = rvaOf(p.segment, p.offset);
      return start === undefined ? [] : [{ start, name: p.name }];
    })
    .sort((a, b) => a.start - b.start);
  lines.sort(byStart);
  inlined.sort(byStart);
  procedures.sort(byStart);
  const starts = new Map<number, string>();
  for (const p of publics) starts.set(p.start, p.name);
  for (const p of procedures) starts.set(p.start, p.name);
  const nameAt = (rva: number): string | undefined =>
    innermost(procedures, rva)?.name ?? publics[lastAtOrBefore(publics, rva)]?.name;
  return {
    at(rva) {
      const where = innermost(inlined, rva) ?? innermost(lines, rva);
      const name = nameAt(rva);
      if (!where && name === undefined) return undefined;
      return { ...(where?.file ? { file: where.file } : {}), ...(where ? { line: where.line } : {}), ...(name !== undefined ? { function: name } : {}) };
    },
    functionAt: (rva) => starts.get(rva),
  };
}

const byStart = (a: Span, b: Span) => a.start - b.start || a.end - b.end;

/** Spans looked at before rva's position when searching for one that holds it (nesting depth). */
const LOOK_BACK = 64;

/** The shortest span holding rva (nested inline sites: the deepest one); `spans` sorted by start. */
function innermost<T extends Span>(spans: readonly T[], rva: number): T | undefined {
  let best: T | undefined;
  const last = lastAtOrBefore(spans, rva);
  for (let i = last; i >= 0 && i > last - LOOK_BACK; i--) {
    const s = spans[i] as T;
    if (rva < s.end && (!best || s.end - s.start < best.end - best.start)) best = s;
  }
  return best;
}

function lastAtOrBefore(sorted: ReadonlyArray<{ start: number }>, rva: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as { start: number }).start <= rva) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
