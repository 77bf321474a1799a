/**
 * Applies the config's rule severities and suppressions, and a baseline, to a finished scan:
 * the one place findings are re-graded. Suppressed findings move to FileReport.suppressed,
 * so the verdict, the summary and --fail-on count only the rest. Pure.
 */
import { type FileReport, type Finding, type ScanReport, verdictOf } from '../report/model.js';
import { summarize } from '../report/summary.js';
import { matchesAny } from './config.js';
import type { Config } from './schema.js';

export interface Baseline {
  /** Where it came from, for the reason shown in reports. */
  source: string;
  /** "<file name>\n<fingerprint>" of every finding in the baseline report. */
  keys: ReadonlySet<string>;
}

export interface PolicyOptions {
  config?: Config;
  baseline?: Baseline;
  /** The path globs are matched against (relative to the current directory). */
  relativePath: (path: string) => string;
  /** Files left out by `ignore` before scanning. */
  ignored?: number;
}

const fileName = (path: string) => path.replace(/\\/g, '/').split('/').pop() ?? path;
export const baselineKey = (path: string, fingerprint: string) => `${fileName(path).toLowerCase()}\n${fingerprint}`;

/** Reads a previous JSON report (`hvci scan --format json`) as a baseline. */
export function parseBaseline(text: string, source: string): Baseline {
  let data: { files?: unknown };
  try {
    data = JSON.parse(text) as { files?: unknown };
  } catch (e) {
    throw new Error(`${source}: not a JSON report: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(data.files)) throw new Error(`${source}: not an hvci JSON report (no "files" array); write one with hvci scan --format json`);
  const keys = new Set<string>();
  let withoutFingerprint = 0;
  for (const file of data.files as FileReport[]) {
    for (const f of [...(file.findings ?? []), ...(file.suppressed ?? [])]) {
      if (typeof f.fingerprint === 'string') keys.add(baselineKey(file.path, f.fingerprint));
      else withoutFingerprint++;
    }
  }
  if (withoutFingerprint > 0 && keys.size === 0) {
    throw new Error(`${source}: its findings have no fingerprints (written by an older hvci); regenerate it with hvci scan --format json`);
  }
  return { source, keys };
}

/** Applies the config and baseline to one file's report (streamed scans call this per file). */
export function applyPolicyToFile(file: FileReport, options: PolicyOptions): FileReport {
  const { config, baseline } = options;
  if (file.status !== 'analyzed') return file;
  const rel = options.relativePath(file.path);
  const kept: Finding[] = [];
  const suppressed: Finding[] = [...(file.suppressed ?? [])];
  for (const original of file.findings) {
    const setting = config?.rules?.[original.ruleId];
    if (setting === 'off') continue;
    const f: Finding = setting ? { ...original, severity: setting } : original;
    const rule = config?.suppressions?.find(
      (s) =>
        (s.ruleId === '*' || s.ruleId === f.ruleId) &&
        (s.path === undefined || matchesAny(rel, [s.path])) &&
        (s.fingerprint === undefined || s.fingerprint === f.fingerprint),
    );
    if (rule) suppressed.push({ ...f, suppression: { kind: 'config', reason: rule.reason } });
    else if (baseline && f.fingerprint && baseline.keys.has(baselineKey(file.path, f.fingerprint))) {
      suppressed.push({ ...f, suppression: { kind: 'baseline', reason: `already in the baseline ${baseline.source}` } });
    } else kept.push(f);
  }
  const out: FileReport = { ...file, findings: kept, verdict: verdictOf(kept) };
  if (suppressed.length > 0) out.suppressed = suppressed;
  return out;
}

export function applyPolicy(report: ScanReport, options: PolicyOptions): ScanReport {
  const files = report.files.map((file) => applyPolicyToFile(file, options));
  const suppressedCount = files.reduce((n, f) => n + (f.suppressed?.length ?? 0), 0);
  const s = report.summary;
  const summary = summarize(files, { skipped: s.skipped, targetOs: s.targetOs, failOn: s.failOn, walkErrors: report.walkErrors.length });
  if (suppressedCount > 0) summary.suppressed = suppressedCount;
  if (options.ignored) summary.ignored = options.ignored;
  return { ...report, files, summary };
}
