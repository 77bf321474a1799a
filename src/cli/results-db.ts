/**
 * `--db results.sqlite`: every file's report stored by SHA-256, hvci version and settings,
 * so a re-run (after an interruption, or on a corpus that grew) analyses only what is new.
 * Writes are batched into transactions; a batch is committed every BATCH_FILES files or
 * BATCH_MS milliseconds, and on close or SIGINT/SIGTERM, so an interrupted scan loses at
 * most one batch. better-sqlite3 is loaded only when --db is given.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Database, Statement } from 'better-sqlite3';
import type { FileReport } from '../report/model.js';
import { TOOL_VERSION } from '../version.js';
import { RESULTS_DB_SCHEMA, RESULTS_DB_TABLES, RESULTS_DB_VERSION, type StoreSettings, storeSettings } from './results-db-schema.js';

const BATCH_FILES = 500;
const BATCH_MS = 2_000;

/** A --db path that cannot be used: exit 2 before anything is scanned. */
export class ResultsDbError extends Error {}

type Row = Record<string, string | number | null>;

export class ResultsDb {
  /** Files whose report came from the database instead of a new analysis. */
  reused = 0;
  /** Reports written to the database in this run. */
  stored = 0;
  private readonly fromDb = new WeakSet<FileReport>();
  /** Contents whose stored report lookup() found out of date: the next save replaces it. */
  private readonly outdated = new Set<string>();
  private readonly selectReport: Statement<[string, string, string], { report: string }>;
  private readonly insertFile: Statement<[Row]>;
  private readonly insertFinding: Statement<[Row]>;
  private readonly insertPath: Statement<[Row]>;
  private readonly deleteFile: Statement<[Row]>;
  private readonly deleteFindings: Statement<[Row]>;
  private batchStart: number | undefined;
  private batchFiles = 0;

  constructor(
    private readonly db: Database,
    private readonly settings: string,
  ) {
    this.selectReport = db.prepare('SELECT report FROM files WHERE sha256 = ? AND tool_version = ? AND settings = ?');
    this.insertFile = db.prepare(`INSERT OR IGNORE INTO files VALUES (@sha256, @tool_version, @settings, @size, @status, @error_code, @kind,
      @kernel_mode, @machine, @verdict, @call_site_analysis, @errors, @warnings, @notes, @company, @product, @file_version,
      @original_filename, @file_description, @signed, @signer, @signer_organization, @program_name, @digest_matches, @pdb_path,
      @report, @stored_at)`);
    this.insertFinding = db.prepare(`INSERT OR IGNORE INTO findings VALUES (@sha256, @tool_version, @settings, @seq, @rule_id, @severity,
      @message_id, @rva, @function, @section, @message, @fingerprint)`);
    this.insertPath = db.prepare('INSERT OR IGNORE INTO paths VALUES (@path, @sha256, @tool_version, @settings, @first_seen)');
    const key = 'sha256 = @sha256 AND tool_version = @tool_version AND settings = @settings';
    this.deleteFile = db.prepare(`DELETE FROM files WHERE ${key}`);
    this.deleteFindings = db.prepare(`DELETE FROM findings WHERE ${key}`);
  }

  /**
   * The stored report of this content, under the path it has now; undefined when not stored,
   * or when `current` says it is out of date here (a PDB found now that was not then): the
   * fresh report then replaces it.
   */
  lookup(sha256: string, path: string, current?: (stored: FileReport) => boolean): FileReport | undefined {
    if (sha256 === '') return undefined;
    const row = this.selectReport.get(sha256, TOOL_VERSION, this.settings);
    if (!row) return undefined;
    const report = { ...(JSON.parse(row.report) as FileReport), path };
    if (current && !current(report)) {
      this.outdated.add(sha256);
      return undefined;
    }
    this.fromDb.add(report);
    this.reused++;
    return report;
  }

  /**
   * Stores a fresh report (one that came from lookup only gets its path recorded). Reports
   * that say nothing about the content — unreadable, or an internal error — are not stored,
   * so the next run tries them again.
   */
  save(report: FileReport): void {
    if (report.sha256 === '' || report.errorCode === 'READ_FAILED' || report.errorCode === 'INTERNAL_ERROR') return;
    try {
      this.write(report);
    } catch (e) {
      throw new ResultsDbError(`cannot store results in ${this.db.name}: ${message(e)}`);
    }
  }

  private write(report: FileReport): void {
    this.begin();
    const key = { sha256: report.sha256, tool_version: TOOL_VERSION, settings: this.settings };
    const now = new Date().toISOString();
    this.insertPath.run({ ...key, path: report.path, first_seen: now });
    if (!this.fromDb.has(report)) {
      if (this.outdated.delete(report.sha256)) {
        this.deleteFile.run(key);
        this.deleteFindings.run(key);
      }
      this.insertFile.run({ ...key, ...fileColumns(report), report: JSON.stringify(report), stored_at: now });
      report.findings.forEach((f, seq) => this.insertFinding.run({ ...key, ...findingColumns(f), seq }));
      this.stored++;
    }
    this.batchFiles++;
    if (this.batchFiles >= BATCH_FILES || Date.now() - (this.batchStart as number) >= BATCH_MS) this.commit();
  }

  /** Commits what is pending; the database stays open. */
  commit(): void {
    if (this.batchStart === undefined) return;
    this.db.exec('COMMIT');
    this.batchStart = undefined;
    this.batchFiles = 0;
  }

  close(): void {
    if (!this.db.open) return;
    this.commit();
    this.db.close();
  }

  private begin(): void {
    if (this.batchStart !== undefined) return;
    this.db.exec('BEGIN');
    this.batchStart = Date.now();
  }
}

/** Opens (or creates) the database; a file that is not an hvci results database is a ResultsDbError. */
export async function openResultsDb(path: string, settings: string): Promise<ResultsDb> {
  let Sqlite: typeof import('better-sqlite3');
  try {
    Sqlite = (await import('better-sqlite3')).default;
  } catch (e) {
    throw new ResultsDbError(`--db needs the better-sqlite3 package, which did not load here: ${message(e)}`);
  }
  let db: Database | undefined;
  try {
    db = new Sqlite(path, { fileMustExist: false });
    prepare(db, path);
    return new ResultsDb(db, settings);
  } catch (e) {
    db?.close();
    if (e instanceof ResultsDbError) throw e;
    throw new ResultsDbError(`cannot use ${path} as the results database: ${openFailure(e)}`);
  }
}

/** Checks what the file is, then creates the tables; writing the version proves the file is writable. */
function prepare(db: Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
  const ours = RESULTS_DB_TABLES.every((t) => tables.includes(t));
  if (version === 0 && tables.length > 0) throw new ResultsDbError(`${path} is a SQLite database, but not an hvci results database; name another file`);
  if (version !== 0 && (version !== RESULTS_DB_VERSION || !ours)) {
    throw new ResultsDbError(`${path} is a results database of another hvci version (format ${version}; this one reads ${RESULTS_DB_VERSION}); name another file`);
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('BEGIN IMMEDIATE');
  db.exec(RESULTS_DB_SCHEMA);
  db.pragma(`user_version = ${RESULTS_DB_VERSION}`);
  db.exec('COMMIT');
}

function fileColumns(r: FileReport): Row {
  const primary = r.signature?.signatures[0];
  const count = (severity: string) => r.findings.filter((f) => f.severity === severity).length;
  return {
    size: r.size,
    status: r.status,
    error_code: r.errorCode ?? null,
    kind: r.kind,
    kernel_mode: r.kernelMode ? 1 : 0,
    machine: r.machine,
    verdict: r.verdict,
    call_site_analysis: r.callSiteAnalysis,
    errors: count('error'),
    warnings: count('warning'),
    notes: count('note'),
    company: r.version?.companyName ?? null,
    product: r.version?.productName ?? null,
    file_version: r.version?.fileVersion ?? r.version?.fixedFileVersion ?? null,
    original_filename: r.version?.originalFilename ?? null,
    file_description: r.version?.fileDescription ?? null,
    signed: r.signature?.present ? 1 : 0,
    signer: primary?.signer?.commonName ?? null,
    signer_organization: primary?.signer?.organization ?? null,
    program_name: primary?.programName ?? null,
    digest_matches: primary === undefined || primary.digestMatches === null ? null : primary.digestMatches ? 1 : 0,
    pdb_path: r.image?.pdbPath ?? null,
  };
}

function findingColumns(f: FileReport['findings'][number]): Row {
  const fn = f.arguments.function ?? f.evidence?.function;
  return {
    rule_id: f.ruleId,
    severity: f.severity,
    message_id: f.messageId,
    rva: f.rva ?? null,
    function: typeof fn === 'string' ? fn : null,
    section: f.section ?? null,
    message: f.message,
    fingerprint: f.fingerprint ?? null,
  };
}

/** SQLite's own words, with what they usually mean when a file cannot be opened or written. */
function openFailure(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'SQLITE_CANTOPEN') return `${message(e)} (no permission, or a read-only location?)`;
  if (code === 'SQLITE_READONLY') return `${message(e)} (the file or its directory is read-only)`;
  return message(e);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The settings column for this scan: the target OS, the --blocklist file by its content, --image-only and source options. */
export async function scanStoreSettings(
  minBuild: number,
  blocklistPath: string | undefined,
  more: Pick<StoreSettings, 'imageOnly' | 'sources'> = {},
): Promise<string> {
  const blocklistSha256 = blocklistPath === undefined ? undefined : createHash('sha256').update(await readFile(blocklistPath)).digest('hex');
  return storeSettings({ minBuild, blocklistSha256, ...more });
}
