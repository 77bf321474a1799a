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

export function exitCodeFor(files: readonly FileReport[], failOn: FailOn, walkErrors: number): number {
  const failing = files.some((f) =>
    f.findings.some((x) => (failOn === 'error' ? x.severity === 'error' : failOn === 'warning' ? x.severity !== 'note' : false)),
  );
  if (failing) return ExitCode.findings;
  if (walkErrors > 0 || files.some((f) => f.status === 'error' || (f.incompleteAnalysis?.length ?? 0) > 0)) return ExitCode.incomplete;
  return ExitCode.ok;
}

export function summarize(
  files: readonly FileReport[],
  extra: { skipped: number; targetOs: string; failOn: FailOn; walkErrors: number },
): ScanSummary {
  const count = (pred: (f: FileReport) => boolean) => files.filter(pred).length;
  const findings = { error: 0, warning: 0, note: 0 };
  for (const f of files) for (const x of f.findings) findings[x.severity]++;
  return {
    files: files.length,
    analyzed: count((f) => f.status === 'analyzed'),
    errors: count((f) => f.status === 'error'),
    incompatible: count((f) => f.verdict === 'incompatible'),
    warnings: count((f) => f.verdict === 'warnings'),
    compatible: count((f) => f.verdict === 'compatible'),
    kernelDrivers: count((f) => f.kernelMode),
    findings,
    skipped: extra.skipped,
    targetOs: extra.targetOs,
    failOn: extra.failOn,
    exitCode: exitCodeFor(files, extra.failOn, extra.walkErrors),
  };
}
