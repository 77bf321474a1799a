import { type Dbi, type DbiModule, parseDbi } from './dbi.js';
import { parseInfoStream, parseStringTable, type PdbInfo, type StringTable } from './info.js';
import { type PdbIssue, PdbIssueLog } from './issues.js';
import { parseC13 } from './lines.js';
import { openMsf } from './msf.js';
import { type InlineSite, parseModuleSymbols, parsePublics, type ProcedureSymbol, type PublicSymbol } from './symbols.js';

/** A source line range with its file name resolved. */
export interface SourceLine {
  segment: number;
  offset: number;
  length: number;
  file: string;
  line: number;
}

/** An inlined call's code ranges, each with the inlined function's file and line. */
export interface InlinedCode {
  segment: number;
  ranges: SourceLine[];
}

export interface PdbModule extends DbiModule {
  procedures: ProcedureSymbol[];
  lines: SourceLine[];
  inlined: InlinedCode[];
  /** Every source file the module's checksums name. */
  files: string[];
}

export interface Pdb {
  info: PdbInfo;
  dbi?: Dbi;
  /** The age a debug record must carry to match: the DBI stream's, else the info stream's. */
  age: number;
  modules: PdbModule[];
  publics: PublicSymbol[];
  /** Problems the reader tolerated; the parts it could read are kept. */
  problems: PdbIssue[];
}

export type ParsePdbResult = { ok: true; pdb: Pdb } | { ok: false; problems: PdbIssue[] };

const INFO_STREAM = 1;
const DBI_STREAM = 3;
const C13_SIGNATURE = 4;

/**
 * Reads a PDB. Pure and never throws: a PDB whose container or info stream cannot be read
 * gives `ok: false` with the problems; any later damage costs only the part it hits.
 */
export function parsePdb(bytes: Uint8Array): ParsePdbResult {
  const log = new PdbIssueLog();
  const msf = openMsf(bytes, log);
  const infoBytes = msf?.stream(INFO_STREAM);
  const info = infoBytes ? parseInfoStream(infoBytes, log) : undefined;
  if (!msf || !info) {
    if (msf && !infoBytes) log.add('PDB_INFO_MALFORMED', 'the PDB has no info stream (stream 1)');
    return { ok: false, problems: log.items };
  }
  const namesStream = info.namedStreams.get('/names');
  const namesBytes = namesStream === undefined ? undefined : msf.stream(namesStream);
  const names = namesBytes ? parseStringTable(namesBytes, log) : undefined;
  const dbiBytes = msf.stream(DBI_STREAM);
  const dbi = dbiBytes && dbiBytes.byteLength > 0 ? parseDbi(dbiBytes, log) : undefined;
  const modules = (dbi?.modules ?? []).map((m) => readModule(m, msf.stream(m.stream ?? -1), names, log));
  const recordBytes = dbi?.symbolRecordStream === undefined ? undefined : msf.stream(dbi.symbolRecordStream);
  const publics = recordBytes ? parsePublics(recordBytes, log) : [];
  return { ok: true, pdb: { info, ...(dbi ? { dbi } : {}), age: dbi?.age ?? info.age, modules, publics, problems: log.items } };
}

function readModule(m: DbiModule, stream: Uint8Array | undefined, names: StringTable | undefined, log: PdbIssueLog): PdbModule {
  const empty: PdbModule = { ...m, procedures: [], lines: [], inlined: [], files: [] };
  if (!stream) return empty;
  const what = `module ${m.index} (${m.name})`;
  if (m.symbolBytes > stream.byteLength || m.c13Bytes > stream.byteLength - m.symbolBytes - m.c11Bytes) {
    log.add('PDB_MODULE_MALFORMED', `${what}: its symbol and line sizes exceed its ${stream.byteLength}-byte stream`);
    return empty;
  }
  const signature = stream.byteLength >= 4 ? new DataView(stream.buffer, stream.byteOffset, 4).getUint32(0, true) : undefined;
  if (m.symbolBytes >= 4 && signature !== C13_SIGNATURE) {
    log.add('PDB_MODULE_MALFORMED', `${what}: symbols have signature ${signature}, not the C13 layout (4)`);
    return empty;
  }
  const symbols = m.symbolBytes >= 4 ? parseModuleSymbols(stream, m.symbolBytes, what, log) : { procedures: [], inlineSites: [] };
  const c13Start = m.symbolBytes + m.c11Bytes;
  const c13 = parseC13(stream.subarray(c13Start, c13Start + m.c13Bytes), what, log);
  const fileName = (checksum: number): string => {
    const at = c13.fileNames.get(checksum);
    return (at === undefined ? undefined : names?.at(at)) ?? `<file #${checksum}>`;
  };
  const lines = c13.ranges.map(({ fileChecksum, ...r }) => ({ ...r, file: fileName(fileChecksum) }));
  const inlined = symbols.inlineSites.flatMap((site) => inlinedCode(site, c13.inlinees, fileName));
  const files = [...c13.fileNames.keys()].map(fileName);
  return { ...m, procedures: symbols.procedures, lines, inlined, files };
}

function inlinedCode(site: InlineSite, inlinees: Map<number, { fileChecksum: number; line: number }>, fileName: (c: number) => string): InlinedCode[] {
  const start = inlinees.get(site.inlinee);
  if (!start) return [];
  const ranges = site.ranges
    .filter((r) => r.length > 0)
    .map((r) => ({ segment: site.segment, offset: r.offset, length: r.length, file: fileName(r.fileChecksum ?? start.fileChecksum), line: start.line + r.lineOffset }));
  return [{ segment: site.segment, ranges }];
}
