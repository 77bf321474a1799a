import type { PeIssue, VersionInfo } from '../pe/index.js';
import type { SignatureReport } from '../signature/index.js';
import type { ImageKind } from '../analysis/image-kind.js';
import type { PdbUse } from '../source/match.js';
import type { RuleId } from '../rules/ids.js';
import type { RuleFinding, RuleNotApplied } from '../rules/runner.js';

export type { RuleNotApplied } from '../rules/runner.js';

/** One finding. Field names are part of the JSON contract: extend, never rename. */
export interface Finding extends RuleFinding {
  /**
   * Stays equal across rebuilds of the same code (no RVAs or offsets in it): used by SARIF
   * `partialFingerprints`, `--baseline` and suppressions. See src/report/fingerprint.ts.
   */
  fingerprint?: string;
  /** Why the finding does not count (only on findings in FileReport.suppressed). */
  suppression?: Suppression;
  /** Where the finding's code comes from, read from the driver's matching PDB. */
  source?: SourceRef;
}

/** A place in the driver's source, from its PDB (line tables and procedure symbols). */
export interface SourceRef {
  /** The source file, after --source-root / --source-map (else as the PDB names it). */
  file?: string;
  line?: number;
  /** The function the code belongs to (an inlined helper's code: the function it was inlined into). */
  function?: string;
  /** The file as the PDB names it, when --source-root or --source-map changed it. */
  buildFile?: string;
}

/** A finding that is reported but does not count for the verdict or --fail-on. */
export interface Suppression {
  /** "baseline": its fingerprint is in the --baseline report; "config": a suppression in the config file. */
  kind: 'baseline' | 'config';
  /** The config suppression's reason, or which baseline file matched. */
  reason: string;
}

export interface CheckedCallSummary {
  api: string;
  ruleId: RuleId;
  callRva: number;
  /** Export name or sub_<rva>. */
  function: string;
  verdict: 'executable' | 'unresolved' | 'compatible';
  /** The deciding argument's values on the paths reaching the call ("NonPagedPoolNx (0x200)"). */
  values: string[];
  /** How the call reaches the API (call-iat, thunk, register…). */
  form: string;
  /** Severity of the finding the call produces (absent when compatible). */
  severity?: 'error' | 'warning';
  /** A second argument that changed the verdict's weight (UserMode target, custom lookaside Allocate). */
  context?: string;
}

/** "incomplete": call sites were analysed, but a budget or an internal error cut it short (see incompleteAnalysis). */
export type CallSiteAnalysis = 'complete' | 'incomplete' | 'unsupported-machine' | 'not-run';

export { MORE_LIKE_THIS } from '../rules/runner.js';

/** A part of the analysis that did not finish for one file, and why. */
export interface IncompleteAnalysis {
  /** "rule": one rule stopped early (findings it made before are kept); "checked-calls": the checked-call list; "fingerprints": call-site hashes; "source-lines": the PDB lookup. */
  part: 'rule' | 'checked-calls' | 'fingerprints' | 'function-discovery' | 'source-lines';
  ruleId?: RuleId;
  /** One line: the budget that ran out, or the internal error. */
  reason: string;
}

export type Verdict = 'incompatible' | 'warnings' | 'compatible' | 'unknown';

export interface FileReport {
  path: string;
  sha256: string;
  size: number;
  status: 'analyzed' | 'error';
  /** One line saying why the file could not be analysed (status "error"). */
  error?: string;
  errorCode?: string;
  kind: ImageKind | 'not-pe' | 'unknown';
  kernelMode: boolean;
  kindReason?: string;
  machine: string;
  format?: 'PE32' | 'PE32+';
  subsystem?: string;
  verdict: Verdict;
  /**
   * Whether machine code was analysed for call sites: "complete" (x86/x64), or why not —
   * "unsupported-machine" (e.g. ARMNT: image rules only) or "not-run" (no call-site rule
   * was enabled). A compatible verdict without "complete" covers the image rules only.
   */
  callSiteAnalysis: CallSiteAnalysis;
  findings: Finding[];
  /**
   * The rules that did not run on this file, each with the reason (ARMNT code is not decoded,
   * not kernel-mode code, no executable section, …): what the verdict does not cover.
   * Absent when every rule ran.
   */
  rulesNotApplied?: RuleNotApplied[];
  /** Every call site examined by the call-site rules, compatible ones included. */
  checkedCalls?: CheckedCallSummary[];
  /** Checked calls left out of `checkedCalls` (at most 2,000 are listed per file). */
  checkedCallsOmitted?: number;
  /** Parts of the analysis that stopped early (budgets for huge or hostile files, internal errors). */
  incompleteAnalysis?: IncompleteAnalysis[];
  /**
   * Findings matched by --baseline or a config suppression: kept for the record (SARIF
   * marks them suppressed), left out of `findings`, the verdict and the exit code.
   */
  suppressed?: Finding[];
  /** Structural problems the reader tolerated (malformed but analysable), the PDB's included. */
  problems: Array<PeIssue | { code: string; message: string; offset?: number }>;
  /** The PDB used for source lines and function names, or the one found and why it was ignored. */
  pdb?: PdbUse;
  image?: ImageFacts;
  /** The version resource's names and versions; null when the image has none (analysed files only). */
  version?: VersionInfo | null;
  /** Authenticode hashes and what the signature says (analysed files only). */
  signature?: SignatureReport;
}

export interface ImageFacts {
  imageBase: string;
  entryPointRva: string;
  sectionAlignment: string;
  fileAlignment: string;
  sizeOfImage: string;
  dllCharacteristics: string;
  linkerVersion: string;
  sections: Array<{
    name: string;
    /** The full name of a COFF long name ("/4" → ".debug_info"), from the string table. */
    longName?: string;
    virtualAddress: string;
    virtualSize: string;
    sizeOfRawData: string;
    pointerToRawData: string;
    characteristics: string;
    rights: string;
  }>;
  imports: Array<{ dll: string; delayLoaded: boolean; functions: number }>;
  /** Base relocation fix-ups (ABSOLUTE padding entries not counted). */
  relocationCount: number;
  pdbPath?: string;
  signed: boolean;
}

export interface ScanSummary {
  files: number;
  analyzed: number;
  errors: number;
  incompatible: number;
  warnings: number;
  compatible: number;
  kernelDrivers: number;
  findings: { error: number; warning: number; note: number };
  /** Files in scanned directories that were not PE images and so were not analysed. */
  skipped: number;
  /** Findings left out by --baseline or config suppressions (see FileReport.suppressed). */
  suppressed?: number;
  /** Files left out by the config's `ignore` globs. */
  ignored?: number;
  /** --shard K/N: this report covers that shard of the inputs only. */
  shard?: string;
  /** --db: files whose report was taken from the results database (stored by an earlier scan) instead of analysed again. */
  reused?: number;
  targetOs: string;
  failOn: 'error' | 'warning' | 'none';
  exitCode: number;
}

export interface ScanReport {
  $schema?: string;
  tool: { name: string; version: string; informationUri: string };
  files: FileReport[];
  /** Paths that could not be read or walked (unreadable entries, symlink loops). */
  walkErrors: Array<{ path: string; error: string }>;
  /** Files in scanned directories that were skipped for what they are (FIFOs, devices, sockets), with the reason. */
  skippedFiles?: Array<{ path: string; reason: string }>;
  summary: ScanSummary;
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'error')) return 'incompatible';
  if (findings.some((f) => f.severity === 'warning')) return 'warnings';
  return 'compatible';
}

/**
 * How a verdict reads when some analysis did not run: a "compatible" driver whose call sites
 * were not analysed (ARMNT …) is compatible only as far as the image checks go, and says so.
 * Undefined when the plain verdict tells the whole story.
 */
export function verdictQualifier(file: Pick<FileReport, 'verdict' | 'callSiteAnalysis' | 'machine'>): string | undefined {
  if (file.verdict !== 'compatible' || file.callSiteAnalysis !== 'unsupported-machine') return undefined;
  return `image checks only; call sites not analysed for ${file.machine.toUpperCase()}`;
}

/** The report of a file that could not be analysed: one line saying why, and nothing else. */
export function errorFileReport(
  base: Pick<FileReport, 'path' | 'sha256' | 'size'>,
  errorCode: string,
  error: string,
  what: Partial<Pick<FileReport, 'kind' | 'kernelMode' | 'machine' | 'callSiteAnalysis'>> = {},
): FileReport {
  return {
    ...base,
    status: 'error',
    error,
    errorCode,
    kind: what.kind ?? 'unknown',
    kernelMode: what.kernelMode ?? false,
    machine: what.machine ?? 'unknown',
    verdict: 'unknown',
    callSiteAnalysis: what.callSiteAnalysis ?? 'not-run',
    findings: [],
    problems: [],
  };
}
