import type { PdbSourceIndex } from '../pdb/index.js';
import type { CheckedCallSummary, Finding, SourceRef } from '../report/model.js';

export interface SourceAnnotation {
  index: PdbSourceIndex;
  /** The file name to report for a path the PDB gives (--source-map, --source-root); identity by default. */
  sourcePath?: (pdbPath: string) => string;
}

/** Objects nested deeper than this in evidence are left as they are. */
const MAX_DEPTH = 6;
const SUB_NAME = /\bsub_([0-9a-f]+)\b/g;

/**
 * Puts source lines and PDB function names on findings: `source` on each finding with an
 * address, on each evidence object that names an instruction (`rva`, `callRva`), and
 * `sub_<rva>` names replaced where the PDB names that function. Runs after fingerprints,
 * so a finding keeps its fingerprint whether or not a PDB was found.
 */
export function annotateFindings(findings: Finding[], checked: CheckedCallSummary[] | undefined, a: SourceAnnotation): void {
  const sourceAt = (rva: number): SourceRef | undefined => {
    const at = a.index.at(rva);
    if (!at) return undefined;
    const file = at.file ? a.sourcePath?.(at.file) || at.file : undefined;
    return {
      ...(file !== undefined ? { file } : {}),
      ...(at.line !== undefined ? { line: at.line } : {}),
      ...(at.function !== undefined ? { function: at.function } : {}),
      ...(file !== undefined && file !== at.file ? { buildFile: at.file } : {}),
    };
  };
  const rename = (text: string): string =>
    text.replace(SUB_NAME, (whole, hex: string) => a.index.functionAt(parseInt(hex, 16)) ?? whole);
  for (const f of findings) {
    if (f.rva !== undefined && f.section !== undefined && isCode(f)) {
      const source = sourceAt(f.rva);
      if (source) f.source = source;
    }
    f.message = rename(f.message);
    for (const [k, v] of Object.entries(f.arguments)) if (typeof v === 'string') f.arguments[k] = rename(v);
    if (f.evidence) f.evidence = walk(f.evidence, 0, sourceAt, rename) as Record<string, unknown>;
  }
  for (const c of checked ?? []) c.function = rename(c.function);
}

/** A finding about code (a call site or an instruction), not about a section or a header. */
function isCode(f: Finding): boolean {
  return f.evidence !== undefined && ('call' in f.evidence || 'instructions' in f.evidence || 'function' in f.evidence || 'functionRva' in f.evidence);
}

function walk(value: unknown, depth: number, sourceAt: (rva: number) => SourceRef | undefined, rename: (s: string) => string): unknown {
  if (typeof value === 'string') return rename(value);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, sourceAt, rename));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = walk(v, depth + 1, sourceAt, rename);
  // An instruction ("rva") or a call on a wrapper path ("callRva"), as hex text or a number.
  const at = addressOf(out.callRva) ?? addressOf(out.rva);
  if (at !== undefined && !('source' in out)) {
    const source = sourceAt(at);
    if (source) out.source = source;
  }
  return out;
}

function addressOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return parseInt(v, 16);
  return undefined;
}
