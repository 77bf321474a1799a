import type { FileReport, SourceRef } from './model.js';

/** "src/rx.c:142" (or just the file, or nothing), as text, HTML and annotations show a source place. */
export function sourceText(ref: SourceRef | undefined): string | undefined {
  if (!ref?.file) return undefined;
  return ref.line === undefined ? ref.file : `${ref.file}:${ref.line}`;
}

/** The `source` of an evidence object (a proof step, a wrapper path entry), when it has a well-formed one. */
export function evidenceSource(x: unknown): SourceRef | undefined {
  const s = typeof x === 'object' && x !== null ? (x as { source?: unknown }).source : undefined;
  if (typeof s !== 'object' || s === null) return undefined;
  const { file, line, function: fn } = s as Record<string, unknown>;
  return {
    ...(typeof file === 'string' ? { file } : {}),
    ...(typeof line === 'number' ? { line } : {}),
    ...(typeof fn === 'string' ? { function: fn } : {}),
  };
}

/** One line about the PDB: which one gave the source lines, or why the one found was not used. */
export function pdbLine(file: Pick<FileReport, 'pdb'>): string | undefined {
  if (!file.pdb) return undefined;
  return file.pdb.status === 'used' ? `source lines and function names from ${file.pdb.path}` : (file.pdb.note ?? `${file.pdb.path} was ignored`);
}
