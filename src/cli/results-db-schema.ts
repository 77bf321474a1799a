/**
 * The --db results store's tables. Rows are keyed by what decides a file's analysis: the
 * file's SHA-256, the hvci version, and the settings that change the result (`settings`,
 * see storeSettings). Natural keys, no row ids, so the databases of shards merge with
 * `INSERT OR IGNORE … SELECT * FROM shard.<table>` (README "Results database").
 */

/** Bumped when the tables change; a database of another version is refused, not migrated. */
export const RESULTS_DB_VERSION = 1;

export const RESULTS_DB_TABLES = ['files', 'findings', 'paths'] as const;

export const RESULTS_DB_SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  sha256 TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  settings TEXT NOT NULL,
  size INTEGER NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  kind TEXT NOT NULL,
  kernel_mode INTEGER NOT NULL,
  machine TEXT NOT NULL,
  verdict TEXT NOT NULL,
  call_site_analysis TEXT NOT NULL,
  errors INTEGER NOT NULL,
  warnings INTEGER NOT NULL,
  notes INTEGER NOT NULL,
  company TEXT,
  product TEXT,
  file_version TEXT,
  original_filename TEXT,
  file_description TEXT,
  signed INTEGER NOT NULL,
  signer TEXT,
  signer_organization TEXT,
  program_name TEXT,
  digest_matches INTEGER,
  pdb_path TEXT,
  report TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (sha256, tool_version, settings)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
  sha256 TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  settings TEXT NOT NULL,
  seq INTEGER NOT NULL,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  message_id TEXT NOT NULL,
  rva INTEGER,
  function TEXT,
  section TEXT,
  message TEXT NOT NULL,
  fingerprint TEXT,
  PRIMARY KEY (sha256, tool_version, settings, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS paths (
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  settings TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  PRIMARY KEY (path, sha256, tool_version, settings)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS findings_by_rule ON findings (rule_id, severity);
CREATE INDEX IF NOT EXISTS files_by_verdict ON files (verdict);
CREATE INDEX IF NOT EXISTS files_by_signer ON files (signer);
CREATE INDEX IF NOT EXISTS files_by_company ON files (company);
CREATE INDEX IF NOT EXISTS paths_by_file ON paths (sha256);
`;

/** What, besides the file and the hvci version, changes a file's stored report. */
export interface StoreSettings {
  /** --target-os, as the oldest build (win10-1607 and 14393 are one setting). */
  minBuild: number;
  /** SHA-256 of the --blocklist file, or undefined for the copy bundled with this version. */
  blocklistSha256?: string | undefined;
  /** --image-only: no call-site findings, so never a stand-in for a full report (nor the reverse). */
  imageOnly?: boolean | undefined;
  /** --pdb, --source-root, --source-map and --no-pdb-lookup, when any is given (they change names and lines). */
  sources?: string | undefined;
}

/**
 * The settings column: readable, and equal for equal settings. Config and --baseline are
 * not in it: they are applied to the stored report when it is written out, as to a fresh one.
 */
export function storeSettings(s: StoreSettings): string {
  // Options added later only append, so databases written before them keep matching.
  return `min-build=${s.minBuild};blocklist=${s.blocklistSha256 ?? 'bundled'}${s.imageOnly ? ';image-only' : ''}${s.sources ? `;sources=${s.sources}` : ''}`;
}
