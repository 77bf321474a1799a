/** Problems found in a file's structure, reported as data (never thrown). */
export type PeIssueCode =
  | 'FILE_TOO_SMALL'
  | 'NOT_MZ'
  | 'BAD_E_LFANEW'
  | 'NOT_PE_SIGNATURE'
  | 'FILE_HEADER_TRUNCATED'
  | 'OPTIONAL_HEADER_TRUNCATED'
  | 'BAD_OPTIONAL_HEADER_MAGIC'
  | 'TOO_MANY_DATA_DIRECTORIES'
  | 'SECTION_TABLE_TRUNCATED'
  | 'NO_SECTIONS'
  | 'SECTION_DATA_OUTSIDE_FILE'
  | 'SECTIONS_OVERLAP'
  | 'DIRECTORY_OUTSIDE_IMAGE'
  | 'IMPORT_TABLE_MALFORMED'
  | 'DELAY_IMPORT_TABLE_MALFORMED'
  | 'EXPORT_TABLE_MALFORMED'
  | 'RELOCATION_BLOCK_MALFORMED'
  | 'EXCEPTION_TABLE_MALFORMED'
  | 'LOAD_CONFIG_MALFORMED'
  | 'DEBUG_DIRECTORY_MALFORMED'
  | 'SECURITY_DIRECTORY_OUTSIDE_FILE';

export interface PeIssue {
  code: PeIssueCode;
  message: string;
  /** File offset the problem was found at, when there is one. */
  offset?: number;
}

/** Collects issues, dropping exact repeats so a hostile file cannot flood the report. */
export class IssueLog {
  readonly items: PeIssue[] = [];
  private readonly seen = new Set<string>();
  private static readonly LIMIT = 200;

  add(code: PeIssueCode, message: string, offset?: number): void {
    const key = `${code}:${message}`;
    if (this.seen.has(key) || this.items.length >= IssueLog.LIMIT) return;
    this.seen.add(key);
    this.items.push(offset === undefined ? { code, message } : { code, message, offset });
  }
}
