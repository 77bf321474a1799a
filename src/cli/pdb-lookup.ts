/**
 * Finding a driver's PDB (`--pdb`, next to the driver, the debug record's path) and
 * reporting the source files it names as paths of this machine (`--source-root`,
 * `--source-map`). Plain data in, so worker threads build the same lookup.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { AnalyzeOptions } from '../analyze.js';
import type { CodeViewInfo } from '../pe/index.js';
import type { FileReport } from '../report/model.js';
import type { PdbCandidate } from '../source/match.js';

export interface SourceSettings {
  /** --pdb: PDB files and directories of PDBs (absolute). */
  pdbPaths: string[];
  /** Look next to the driver and at its debug record's path (off with --no-pdb-lookup). */
  lookup: boolean;
  /** --source-root: the checkout the PDB's source files are looked up in. */
  sourceRoot?: string;
  /** --source-map FROM=TO: build path prefixes and what they are here. */
  sourceMaps: Array<{ from: string; to: string }>;
  /** PDBs larger than this are not read (--max-file-size). */
  maxFileSize: number;
}

/** The analyze() options that give a driver its PDB and source paths. */
export function sourceOptions(settings: SourceSettings, driverPath: string): Pick<AnalyzeOptions, 'pdbs' | 'sourcePath'> {
  if (settings.pdbPaths.length === 0 && !settings.lookup) return {};
  return {
    pdbs: (codeView) => readCandidates(pdbPathsFor(settings, driverPath, codeView), settings.maxFileSize),
    ...(settings.sourceRoot !== undefined || settings.sourceMaps.length > 0 ? { sourcePath: sourcePathMapper(settings) } : {}),
  };
}

/**
 * Where this driver's PDB may be, in order: --pdb files (by the debug record's PDB name or
 * the driver's name; a lone --pdb file is always tried, so a wrong one is reported),
 * --pdb directories, then beside the driver, then the debug record's own path.
 */
export function pdbPathsFor(settings: SourceSettings, driverPath: string, codeView: Pick<CodeViewInfo, 'pdbPath'> | undefined): string[] {
  const recorded = codeView ? unescapePath(codeView.pdbPath) : undefined;
  const names = new Set<string>([`${basename(driverPath, extname(driverPath))}.pdb`.toLowerCase()]);
  if (recorded) names.add(windowsBasename(recorded).toLowerCase());
  const found: string[] = [];
  const files = settings.pdbPaths.filter((p) => !isDirectory(p));
  for (const p of files) if (files.length === 1 || names.has(basename(p).toLowerCase())) found.push(p);
  const dirs = settings.pdbPaths.filter(isDirectory);
  if (settings.lookup) dirs.push(dirname(resolve(driverPath)));
  for (const dir of dirs) for (const n of names) found.push(join(dir, n));
  if (settings.lookup && recorded && isAbsolute(recorded)) found.push(recorded);
  return [...new Set(found)].filter((p) => isFile(p));
}

/**
 * Whether a report stored by --db still says what this scan would about the driver's PDB: it
 * used one that is still among the candidates, or it had none and there is none now. A PDB
 * put beside the driver since (or one that was ignored, perhaps replaced since) means analysing
 * the file again; the candidates are found from the debug record's path the report kept.
 */
export function samePdbAsStored(settings: SourceSettings, stored: FileReport): boolean {
  if (settings.pdbPaths.length === 0 && !settings.lookup) return true;
  const recorded = stored.image?.pdbPath;
  const candidates = pdbPathsFor(settings, stored.path, recorded === undefined ? undefined : { pdbPath: recorded }).map(shown);
  if (!stored.pdb) return candidates.length === 0;
  return stored.pdb.status === 'used' && candidates.includes(stored.pdb.path);
}

function readCandidates(paths: readonly string[], maxFileSize: number): PdbCandidate[] {
  const out: PdbCandidate[] = [];
  for (const path of paths) {
    try {
      if (statSync(path).size > maxFileSize) continue;
      out.push({ path: shown(path), bytes: new Uint8Array(readFileSync(path)) });
    } catch {
      // unreadable: as if absent (the scan is about the driver)
    }
  }
  return out;
}

/** The PE reader shows a backslash as \x5c (see src/pe/bytes.ts); paths need it back. */
function unescapePath(p: string): string {
  return p.replace(/\\x5c/gi, '\\');
}

function windowsBasename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/**
 * What is at a candidate path, never throwing: a path named by the driver's debug record may
 * sit under a directory this user cannot search (EACCES), and the --db lookup asks outside
 * the analysis's own error handling, where a throw would end the scan.
 */
function statOf(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
const isDirectory = (p: string) => statOf(p)?.isDirectory() === true;
const isFile = (p: string) => statOf(p)?.isFile() === true;

/** A path as reports show it: relative to the current directory when inside it. */
function shown(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : resolve(p);
}

/** Source file paths the PDB gives, and their place here; bounded per scan. */
const MAX_REMEMBERED = 4096;

/**
 * --source-map FROM=TO replaces a build path prefix (compared without regard to case or
 * slash direction, as Windows does); else --source-root finds the file under the checkout
 * by the longest tail of the build path that exists there (D:\a\drv\src\rx.c →
 * ROOT/src/rx.c). A path neither finds stays as the PDB gives it.
 */
export function sourcePathMapper(settings: Pick<SourceSettings, 'sourceRoot' | 'sourceMaps'>): (pdbPath: string) => string {
  const memo = new Map<string, string>();
  const maps = settings.sourceMaps.map((m) => ({ from: normalised(m.from).replace(/\/+$/, ''), to: m.to }));
  return (pdbPath) => {
    const known = memo.get(pdbPath);
    if (known !== undefined) return known;
    let result = pdbPath;
    const norm = normalised(pdbPath);
    const map = maps.find((m) => norm.toLowerCase() === m.from.toLowerCase() || norm.toLowerCase().startsWith(`${m.from.toLowerCase()}/`));
    if (map) result = shown(join(map.to, ...norm.slice(map.from.length).split('/').filter(Boolean)));
    else if (settings.sourceRoot !== undefined) {
      const parts = norm.split('/').filter((p) => p !== '' && !/^[a-z]:$/i.test(p));
      for (let i = 0; i < parts.length; i++) {
        const candidate = join(settings.sourceRoot, ...parts.slice(i));
        if (existsSync(candidate)) {
          result = shown(candidate);
          break;
        }
      }
    }
    if (memo.size < MAX_REMEMBERED) memo.set(pdbPath, result);
    return result;
  };
}

function normalised(p: string): string {
  return p.replace(/\\/g, '/');
}
