import { type Issue, IssueLog } from '../pe/issues.js';

/** Problems found in a PDB, reported as data (never thrown). */
export type PdbIssueCode =
  | 'PDB_NOT_MSF'
  | 'PDB_UNSUPPORTED_VERSION'
  | 'PDB_BLOCK_MAP_MALFORMED'
  | 'PDB_STREAM_MALFORMED'
  | 'PDB_INFO_MALFORMED'
  | 'PDB_DBI_MALFORMED'
  | 'PDB_MODULE_MALFORMED'
  | 'PDB_LINES_MALFORMED'
  | 'PDB_SYMBOLS_MALFORMED'
  | 'PDB_STRING_TABLE_MALFORMED'
  | 'PDB_TOO_LARGE'
  | 'PDB_MORE_PROBLEMS';

export type PdbIssue = Issue<PdbIssueCode>;

/** Problems of one PDB: at most a few per code, the rest counted (a hostile PDB cannot flood a report). */
export class PdbIssueLog extends IssueLog<PdbIssueCode> {
  constructor() {
    super('PDB_MORE_PROBLEMS');
  }
}
