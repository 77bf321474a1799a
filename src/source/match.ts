import type { CodeViewInfo } from '../pe/index.js';
import { parsePdb, type Pdb, type PdbIssue } from '../pdb/index.js';

/** A PDB the caller found for a driver (`--pdb`, next to the driver, the debug record's path). */
export interface PdbCandidate {
  path: string;
  bytes: Uint8Array;
}

/** Which PDB a report used, or why the one found was not used. Part of the JSON contract. */
export interface PdbUse {
  path: string;
  status: 'used' | 'ignored';
  /** One sentence: why the PDB was ignored. */
  note?: string;
}

export interface PdbChoice {
  pdb?: Pdb;
  use?: PdbUse;
  /** Problems of the PDBs read (prefixed with the PDB's name): damage is reported, the scan goes on. */
  problems: Array<{ code: string; message: string }>;
}

/**
 * The first candidate whose GUID and age equal the image's RSDS record. A PDB of another
 * build would put findings on wrong lines, so a mismatch is never used: the first
 * ignored candidate's reason is kept as the report's note.
 */
export function choosePdb(codeView: CodeViewInfo | undefined, candidates: readonly PdbCandidate[]): PdbChoice {
  const problems: PdbChoice['problems'] = [];
  let ignored: PdbUse | undefined;
  const ignore = (path: string, note: string) => {
    ignored ??= { path, status: 'ignored', note };
  };
  for (const c of candidates) {
    const parsed = parsePdb(c.bytes);
    const found: PdbIssue[] = parsed.ok ? parsed.pdb.problems : parsed.problems;
    for (const p of found) problems.push({ code: p.code, message: `${c.path}: ${p.message}` });
    if (!parsed.ok) {
      ignore(c.path, `${c.path} was ignored: it could not be read as a PDB (${found[0]?.message ?? 'unknown format'}).`);
      continue;
    }
    const { pdb } = parsed;
    if (!codeView) {
      ignore(c.path, `${c.path} was ignored: the driver has no CodeView (RSDS) debug record, so no PDB can be matched to it.`);
      continue;
    }
    if (pdb.info.guid !== codeView.guid || pdb.age !== codeView.age) {
      ignore(
        c.path,
        `${c.path} was ignored: it belongs to another build (PDB GUID ${pdb.info.guid}, age ${pdb.age}; the driver's debug record wants GUID ${codeView.guid}, age ${codeView.age}).`,
      );
      continue;
    }
    return { pdb, use: { path: c.path, status: 'used' }, problems };
  }
  return { ...(ignored ? { use: ignored } : {}), problems };
}
