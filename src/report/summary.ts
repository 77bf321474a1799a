import type { FileReport, ScanSummary } from './model.js';

export type FailOn = 'error' | 'warning' | 'none';

/** Exit codes, documented in README and --help. */
export const ExitCode = {
  ok: 0,
  findings: 1,
  usage: 2,
  incomplete: 3,
  /** The report could not be written (output file, disk full), or an internal error. */
  output: 4,
} as const;

/** Does this file fail the scan at the --fail-on level? */
function failsOn(file: FileReport, failOn: FailOn): boolean {
  return file.findings.some((x) => (failOn === 'error' ? x.severity === 'error' : failOn === 'warning' ? x.severity !== 'note' : false));
}

/** Analysed only in part: unreadable, or a rule cut short. */
function isIncomplete(file: FileReport): boolean {
  return file.status === 'error' || (file.incompleteAnalysis?.length ?? 0) > 0;
}

export function exitCodeFor(files: readonly FileReport[], failOn: FailOn, walkErrors: number): number {
  const counter = new SummaryCounter(failOn);
  for (const f of files) counter.add(f);
  return counter.exitCode(walkErrors);
}

/**
 * The summary, counted file by file as a streamed scan writes them: the only per-scan state
 * kept while files stream by.
 */
export class SummaryCounter {
  private readonly counts = { files: 0, analyzed: 0, errors: 0, incompatible: 0, warnings: 0, compatible: 0, kernelDrivers: 0 };
  private readonly findings = { error: 0, warning: 0, note: 0 };
  private suppressed = 0;
  private failing = false;
  private incomplete = false;

  constructor(private readonly failOn: FailOn) {}

  add(file: FileReport): void {
    const c = this.counts;
    c.files++;
    if (file.status === 'analyzed') c.analyzed++;
    else c.errors++;
    if (file.verdict === 'incompatible') c.incompatible++;
    else if (file.verdict === 'warnings') c.warnings++;
    else if (file.verdict === 'compatible') c.compatible++;
    if (file.kernelMode) c.kernelDrivers++;
    for (const x of file.findings) this.findings[x.severity]++;
    this.suppressed += file.suppressed?.length ?? 0;
    this.failing ||= failsOn(file, this.failOn);
    this.incomplete ||= isIncomplete(file);
  }

  exitCode(walkErrors: number): number {
    if (this.failing) return ExitCode.findings;
    if (walkErrors > 0 || this.incomplete) return ExitCode.incomplete;
    return ExitCode.ok;
  }

  summary(extra: { skipped: number; targetOs: string; walkErrors: number; ignored?: number }): ScanSummary {
    return {
      ...this.counts,
      findings: { ...this.findings },
      skipped: extra.skipped,
      ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}),
      ...(extra.ignored ? { ignored: extra.ignored } : {}),
      targetOs: extra.targetOs,
      failOn: this.failOn,
      exitCode: this.exitCode(extra.walkErrors),
    };
  }
}

export function summarize(
  files: readonly FileReport[],
  extra: { skipped: number; targetOs: string; failOn: FailOn; walkErrors: number },
): ScanSummary {
  const counter = new SummaryCounter(extra.failOn);
  for (const f of files) counter.add(f);
  const summary = counter.summary(extra);
  // summarize() leaves `suppressed` to applyPolicy, which knows what it moved.
  delete summary.suppressed;
  return summary;
}
