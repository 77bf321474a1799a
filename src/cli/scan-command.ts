import { createHash } from 'node:crypto';
import { analyze } from '../analyze.js';
import type { BlocklistIndex } from '../blocklist/index.js';
import { errorFileReport, type FileReport, type ScanReport } from '../report/model.js';
import { type FailOn, summarize } from '../report/summary.js';
import type { TargetOs } from '../rules/target-os.js';
import { INFORMATION_URI, TOOL_NAME, TOOL_VERSION } from '../version.js';
import { InputTooLarge, readInput } from './read-input.js';
import type { WorkerSetup } from './analyze-worker.js';
import { keepHeapBounded } from './heap-guard.js';
import { AnalysisPool } from './pool.js';
import { type SourceSettings, sourceOptions } from './pdb-lookup.js';
import { inShard, type Shard } from './shard.js';
import { describe, walk, type WalkEntry, type WalkOutcome } from './walk.js';

export interface ScanOptions {
  targetOs: TargetOs;
  /** --blocklist: block rules to use instead of the bundled ones. */
  blocklist?: BlocklistIndex;
  /** --image-only: image checks only, no code decoded. */
  imageOnly?: boolean;
  failOn: FailOn;
  maxFileSize: number;
  /** Called before each file; used for progress on stderr. */
  onFile?: (path: string, index: number) => void;
  /** Called with each file that could not be analysed (one-line errors). */
  onError?: (file: FileReport) => void;
  /** Worker threads for the analysis (1: in this thread). */
  jobs?: number;
  /** --shard: only the files of this shard are scanned. */
  shard?: Shard;
  /** Files found in directories for which this is true are not scanned (config `ignore`). */
  ignore?: (path: string) => boolean;
  /** PDB lookup and source paths (--pdb, --source-root, --source-map); no PDBs when absent. */
  sources?: SourceSettings;
  /** --db: a report stored earlier for this content, used instead of analysing the file again. */
  stored?: (sha256: string, path: string) => FileReport | undefined;
}

/** What a streamed scan found besides the files: walk errors, skipped files, ignored count. */
export interface ScanOutcome {
  walk: WalkOutcome;
  ignored: number;
}

/** Scans files and directories into one report (the library's whole-report form). */
export async function scan(inputs: readonly string[], options: ScanOptions): Promise<ScanReport> {
  const files: FileReport[] = [];
  const outcome = await scanEach(inputs, options, (f) => {
    files.push(f);
  });
  return {
    tool: { name: TOOL_NAME, version: TOOL_VERSION, informationUri: INFORMATION_URI },
    files,
    walkErrors: outcome.walk.errors,
    ...(outcome.walk.special.length > 0 ? { skippedFiles: outcome.walk.special } : {}),
    summary: summarize(files, {
      skipped: outcome.walk.skipped,
      targetOs: options.targetOs.name,
      failOn: options.failOn,
      walkErrors: outcome.walk.errors.length,
    }),
  };
}

/**
 * Scans files and directories, handing each file's report to `onReport` as soon as it is
 * made, in walk order; one file in memory at a time (the CLI streams them into the report).
 */
export async function scanEach(
  inputs: readonly string[],
  options: ScanOptions,
  onReport: (report: FileReport, index: number) => void | Promise<void>,
): Promise<ScanOutcome> {
  const outcome: WalkOutcome = { skipped: 0, errors: [], special: [] };
  const jobs = options.jobs ?? 1;
  const setup = analysisSetup(options);
  const pool = jobs > 1 ? new AnalysisPool(jobs, setup) : undefined;
  // Reports are handed on in input order. Files in flight: enough per worker that one slow
  // file at the head does not leave the others without work, few enough bytes that memory
  // stays flat.
  const pending: Array<{ report: Promise<FileReport>; size: number }> = [];
  let bytesInFlight = 0;
  const full = () => (pool ? pending.length > IN_FLIGHT_PER_WORKER * jobs || bytesInFlight > MAX_BYTES_IN_FLIGHT : pending.length > 0);
  const next = async () => {
    const head = pending.shift() as { report: Promise<FileReport>; size: number };
    bytesInFlight -= head.size;
    await emit(await head.report);
  };
  let index = 0;
  let emitted = 0;
  let ignored = 0;
  const emit = async (report: FileReport) => {
    if (report.status === 'error') options.onError?.(report);
    await onReport(report, emitted++);
    keepHeapBounded();
  };
  try {
    for await (const entry of walk(inputs, outcome)) {
      if (!entry.explicit && options.ignore?.(entry.path)) {
        ignored++;
        continue;
      }
      if (options.shard && !inShard(entry.path, options.shard)) continue; // another shard's file
      options.onFile?.(entry.path, index);
      index++;
      // The first file is analysed here: a one-file scan never starts the workers. Reads are
      // synchronous (read-input.ts), so in one thread a file is read, analysed and written
      // before the next is opened; with workers the main thread reads ahead of them.
      const size = entry.info.isFile() ? entry.info.size : 0;
      bytesInFlight += size;
      pending.push({ report: !pool || index === 1 ? scanFile(entry, options) : scanFile(entry, options, pool), size });
      while (full()) await next();
      // Reads and in-thread analysis are synchronous: let the event loop turn once per file, or
      // signals (Ctrl-C with --db), timers (the progress bar) and output drains wait for the end.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (pending.length > 0) await next();
  } finally {
    await pool?.close();
  }
  return { walk: outcome, ignored };
}

/** Files queued or being analysed per worker (image-only files take a millisecond or two each). */
const IN_FLIGHT_PER_WORKER = 4;
/** ...and at most this many bytes of them, read and not yet reported. */
const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/** One file's report; nothing that goes wrong here escapes to stop the scan. */
async function scanFile(entry: WalkEntry, options: ScanOptions, pool?: AnalysisPool): Promise<FileReport> {
  const { path } = entry;
  let bytes: Uint8Array;
  try {
    bytes = await readInput(path, entry.info, options.maxFileSize);
  } catch (e) {
    const size = e instanceof InputTooLarge ? e.size : 0;
    return errorReport(path, size, e instanceof InputTooLarge ? e.message : describe(e));
  }
  // Without --db the file's SHA-256 is only a report field: a worker computes it, in
  // parallel, instead of the main thread that feeds every worker.
  const sha256 = options.stored || !pool ? sha256Hex(bytes) : undefined;
  const stored = sha256 === undefined ? undefined : options.stored?.(sha256, path);
  if (stored) return stored;
  if (pool) return pool.analyze(bytes, path, sha256);
  try {
    const { sources, ...shared } = analysisSetup(options);
    return analyze(bytes, { path, ...(sha256 === undefined ? {} : { sha256 }), ...shared, ...(sources ? sourceOptions(sources, path) : {}) });
  } catch (e) {
    return { ...errorReport(path, bytes.length, `internal error (please report it): ${describe(e)}`), errorCode: 'INTERNAL_ERROR' };
  }
}

/** SHA-256 in chunks: one update() of 2 GiB or more is refused by node:crypto. */
function sha256Hex(bytes: Uint8Array): string {
  const hash = createHash('sha256');
  const CHUNK = 256 * 1024 * 1024;
  for (let at = 0; at < bytes.length; at += CHUNK) hash.update(bytes.subarray(at, at + CHUNK));
  return hash.digest('hex');
}

function errorReport(path: string, size: number, error: string): FileReport {
  return errorFileReport({ path, sha256: '', size }, 'READ_FAILED', error);
}

/** The analysis options every file of a scan shares (sent once to each worker). */
function analysisSetup(options: ScanOptions): WorkerSetup {
  return {
    targetOs: options.targetOs,
    ...(options.blocklist ? { blocklist: options.blocklist } : {}),
    ...(options.imageOnly ? { imageOnly: true } : {}),
    ...(options.sources ? { sources: options.sources } : {}),
  };
}
