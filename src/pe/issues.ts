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
  | 'TOO_MANY_IMPORTS'
  | 'DELAY_IMPORT_TABLE_MALFORMED'
  | 'EXPORT_TABLE_MALFORMED'
  | 'RELOCATION_BLOCK_MALFORMED'
  | 'EXCEPTION_TABLE_MALFORMED'
  | 'LOAD_CONFIG_MALFORMED'
  | 'DEBUG_DIRECTORY_MALFORMED'
  | 'SECURITY_DIRECTORY_OUTSIDE_FILE'
  | 'VERSION_RESOURCE_MALFORMED'
  | 'SIGNATURE_MALFORMED'
  | 'MORE_PROBLEMS';

export type PeIssue = Issue<PeIssueCode>;

/** A problem found in a file, with a code of the reader that found it. */
export interface Issue<C extends string> {
  code: C;
  message: string;
  /** File offset the problem was found at, when there is one. */
  offset?: number;
}

/**
 * Collects issues. Exact repeats are dropped and each code is kept at most PER_CODE
 * times, so a hostile file cannot flood the report; `items` ends with a count of what
 * was left out (code `moreCode`). Other readers (src/pdb) use it with their own codes.
 */
export class IssueLog<C extends string = PeIssueCode> {
  private readonly kept: Array<Issue<C>> = [];
  private readonly seen = new Set<string>();
  private readonly perCode = new Map<C, number>();
  private suppressed = 0;
  private static readonly PER_CODE = 5;

  constructor(private readonly moreCode: C = 'MORE_PROBLEMS' as C) {}

  add(code: C, message: string, offset?: number): void {
    const n = this.perCode.get(code) ?? 0;
    if (n >= IssueLog.PER_CODE) {
      // Past the cap nothing is remembered (a hostile file may have millions of problems);
      // repeats of the kept messages are no longer told apart from new ones.
      this.suppressed++;
      return;
    }
    const key = `${code}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.perCode.set(code, n + 1);
    this.kept.push(offset === undefined ? { code, message } : { code, message, offset });
  }

  get items(): Array<Issue<C>> {
    if (this.suppressed === 0) return this.kept;
    const more: Issue<C> = { code: this.moreCode, message: `${this.suppressed} more problems of the kinds above were not listed` };
    return [...this.kept, more];
  }
}
