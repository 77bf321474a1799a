import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { analyze } from '../analyze.js';
import type { BlocklistIndex } from '../blocklist/index.js';
import type { FileReport, ScanReport } from '../report/model.js';
import { type FailOn, summarize } from '../report/summary.js';
import type { TargetOs } from '../rules/target-os.js';
import { INFORMATION_URI, TOOL_NAME, TOOL_VERSION } from '../version.js';
import { describe, walk, type WalkOutcome } from './walk.js';

export interface ScanOptions {
  targetOs: TargetOs;
  /** --blocklist: block rules to use instead of the bundled ones. */
  blocklist?: BlocklistIndex;
  failOn: FailOn;
  maxFileSize: number;
  /** Called before each file; used for progress on stderr. */
  onFile?: (path: string, index: number) => void;
  /** Called with each file that could not be analysed (one-line errors). */
  onError?: (file: FileReport) => void;
  /** Files found in directories for which this is true are not scanned (config `ignore`). */
  ignore?: (path: string) => boolean;
}

/** A scan, and how many files `ignore` left out. */
export interface ScanOutcome {
  report: ScanReport;
  ignored: number;
}

/** Scans files and directories; one file in memory at a time. */
export async function scan(inputs: readonly string[], options: ScanOptions): Promise<ScanReport> {
  return (await scanCounting(inputs, options)).report;
}

export async function scanCounting(inputs: readonly string[], options: ScanOptions): Promise<ScanOutcome> {
  const outcome: WalkOutcome = { skipped: 0, errors: [] };
  const files: FileReport[] = [];
  let index = 0;
  let ignored = 0;
  for await (const entry of walk(inputs, outcome)) {
    if (!entry.explicit && options.ignore?.(entry.path)) {
      ignored++;
      continue;
    }
    options.onFile?.(entry.path, index++);
    const report = await scanFile(entry.path, options);
    if (report.status === 'error') options.onError?.(report);
    files.push(report);
  }
  const report: ScanReport = {
    tool: { name: TOOL_NAME, version: TOOL_VERSION, informationUri: INFORMATION_URI },
    files,
    walkErrors: outcome.errors,
    summary: summarize(files, {
      skipped: outcome.skipped,
      targetOs: options.targetOs.name,
      failOn: options.failOn,
      walkErrors: outcome.errors.length,
    }),
  };
  return { report, ignored };
}

async function scanFile(path: string, options: ScanOptions): Promise<FileReport> {
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(path, options.maxFileSize);
  } catch (e) {
    return errorReport(path, e instanceof TooLarge ? e.size : 0, e instanceof TooLarge ? e.message : describe(e));
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return analyze(bytes, { path, sha256, targetOs: options.targetOs, ...(options.blocklist ? { blocklist: options.blocklist } : {}) });
}

class TooLarge extends Error {
  constructor(readonly size: number, limit: number) {
    super(`file is ${size} bytes, over the ${limit}-byte limit (raise it with --max-file-size)`);
  }
}

/** Reads a whole file opened read-only, refusing files over the limit before allocating. */
async function readBounded(path: string, limit: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new TooLarge(size, limit);
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    await handle.close();
  }
}

function errorReport(path: string, size: number, error: string): FileReport {
  return {
    path,
    sha256: '',
    size,
    status: 'error',
    error,
    errorCode: 'READ_FAILED',
    kind: 'unknown',
    kernelMode: false,
    machine: 'unknown',
    verdict: 'unknown',
    callSiteAnalysis: 'not-run',
    findings: [],
    problems: [],
  };
}
