import { digestHex } from './digest/index.js';
import { analyzeCalls } from './analysis/call-analysis.js';
import type { BlocklistIndex } from './blocklist/index.js';
import { codeModelOf, releaseCodeModel } from './analysis/code-model.js';
import { classify } from './analysis/image-kind.js';
import { packedSectionAt } from './analysis/packed.js';
import { type CodeViewInfo, hex, parsePe, type PeImage, rights } from './pe/index.js';
import { sourceIndexOf } from './pdb/index.js';
import { annotateFindings } from './source/annotate.js';
import { choosePdb, type PdbCandidate } from './source/match.js';
import { assignFingerprints } from './report/fingerprint.js';
import { codeAroundIn } from './analysis/call-site-code.js';
import { BudgetExceeded, type BudgetLimits } from './analysis/budget.js';
import type { CallSiteAnalysis, CheckedCallSummary, FileReport, Finding, ImageFacts, IncompleteAnalysis } from './report/model.js';
import { errorFileReport, verdictOf } from './report/model.js';
import { decodesMachineCode } from './rules/applicability.js';
import { rules } from './rules/index.js';
import { type RuleNotApplied, runRules } from './rules/runner.js';
import { readSignature } from './signature/index.js';
import { DEFAULT_TARGET_OS, type TargetOs } from './rules/target-os.js';
import type { AnalysisOptions, Rule, RuleId } from './rules/types.js';

export interface AnalyzeOptions {
  /** Shown in the report; the core never touches the file system. */
  path?: string;
  /** Precomputed SHA-256 (hex); computed here when absent. */
  sha256?: string;
  targetOs?: TargetOs;
  /** Driver block rules (`--blocklist`); the bundled Microsoft list when absent. */
  blocklist?: BlocklistIndex;
  /** Rules to run; all registered rules by default. */
  rules?: readonly Rule[];
  /**
   * Only the image checks (headers, sections, relocations, imports, signature, blocklist): no
   * code is decoded (`--image-only`, for quick triage of huge corpora). Ignored when `rules` is given.
   */
  imageOnly?: boolean;
  /** Work limits for huge or hostile files (defaults: analysis/budget.ts). */
  limits?: Partial<BudgetLimits>;
  /**
   * PDBs that may belong to this driver, or a function giving them once the debug record
   * is known (the CLI looks next to the driver and at the record's path). The first whose
   * GUID and age match is used for source lines and function names.
   */
  pdbs?: readonly PdbCandidate[] | ((codeView: CodeViewInfo | undefined) => readonly PdbCandidate[]);
  /** How a source file the PDB names is reported (--source-root, --source-map); unchanged by default. */
  sourcePath?: (pdbPath: string) => string;
}

export { docsPathOf, MAX_FINDINGS_PER_RULE } from './rules/runner.js';

/**
 * Analyses one file's bytes. Pure: no I/O, and never throws: bad input is a report with
 * status "error", a rule that fails or runs out of budget is listed in `incompleteAnalysis`.
 */
export function analyze(bytes: Uint8Array, options: AnalyzeOptions = {}): FileReport {
  const base = {
    path: options.path ?? '<memory>',
    sha256: options.sha256 ?? digestHex('SHA-256', bytes),
    size: bytes.byteLength,
  };
  try {
    return analyzeParsed(bytes, base, options);
  } catch (e) {
    // A bug of ours, not a property of the file: say so, and let the scan go on.
    return errorReport(base, 'INTERNAL_ERROR', `internal error while analysing this file (please report it): ${oneLine(e)}`);
  }
}

type ReportBase = Pick<FileReport, 'path' | 'sha256' | 'size'>;

function errorReport(base: ReportBase, code: string, message: string): FileReport {
  return errorFileReport(base, code, message, { kind: 'not-pe' });
}

function analyzeParsed(bytes: Uint8Array, base: ReportBase, options: AnalyzeOptions): FileReport {
  const parsed = parsePe(bytes);
  if (!parsed.ok) return errorReport(base, parsed.error.code, parsed.error.message);
  const image = parsed.image;
  // The image's code model is created here, so every rule shares one budget.
  if (options.limits) codeModelOf(image, options.limits);
  const cls = classify(image);
  const analysisOptions: AnalysisOptions = {
    targetOs: options.targetOs ?? DEFAULT_TARGET_OS,
    ...(options.blocklist ? { blocklist: options.blocklist } : {}),
  };
  const list = options.rules ?? (options.imageOnly ? imageRules : rules);
  const incomplete: IncompleteAnalysis[] = [];
  let findings: Finding[];
  let notApplied: RuleNotApplied[];
  let coverage: CallSiteAnalysis;
  let checked: ReturnType<typeof checkedCalls>;
  try {
    const run = runRules(image, list, analysisOptions, { classification: cls });
    findings = run.findings;
    notApplied = run.notApplied;
    for (const { ruleId, error } of run.failures) incomplete.push(failureOf('rule', ruleId, error));
    coverage = callSiteCoverage(image, list, notApplied);
    if (!options.rules && options.imageOnly) notApplied = [...notApplied, ...skippedByImageOnly(notApplied)];
    const model = coverage === 'complete' ? codeModelOf(image) : undefined;
    const truncated = model && !('supported' in model) ? model.discoveryTruncated : undefined;
    if (truncated) incomplete.push({ part: 'function-discovery', reason: `${truncated}: code past it was not analysed` });
    if (coverage === 'complete') {
      checked = guarded(incomplete, 'checked-calls', undefined, () => checkedCalls(image));
    }
    const withFingerprints = guarded(incomplete, 'fingerprints', undefined, () => {
      assignFingerprints(findings, codeAroundIn(image));
      return true;
    });
    if (!withFingerprints) assignFingerprints(findings);
  } finally {
    // Once per image, after every rule: the decoder's wasm memory is not garbage-collected.
    releaseCodeModel(image);
  }
  if (coverage === 'complete' && incomplete.some((i) => i.part !== 'fingerprints')) coverage = 'incomplete';
  const sources = withSources(image, findings, checked?.list, options, incomplete);
  const signed = readSignature(image);
  return {
    ...base,
    status: 'analyzed',
    kind: cls.kind,
    kernelMode: cls.kernelMode,
    kindReason: cls.reason,
    machine: image.machineName,
    format: image.is64 ? 'PE32+' : 'PE32',
    subsystem: image.subsystemName,
    verdict: verdictOf(findings),
    callSiteAnalysis: coverage,
    findings,
    ...(notApplied.length > 0 ? { rulesNotApplied: notApplied } : {}),
    ...(checked ? { checkedCalls: checked.list } : {}),
    ...(checked && checked.omitted > 0 ? { checkedCallsOmitted: checked.omitted } : {}),
    ...(incomplete.length > 0 ? { incompleteAnalysis: incomplete } : {}),
    problems: [...image.issues, ...sources.problems, ...signed.problems],
    ...(sources.use ? { pdb: sources.use } : {}),
    image: imageFacts(image),
    version: image.versionInfo ?? null,
    signature: signed.signature,
  };
}

/**
 * Source lines and function names from the driver's PDB, when one matches. Runs after the
 * fingerprints (they stay the same with or without a PDB); the PDB is dropped afterwards.
 */
function withSources(
  image: PeImage,
  findings: Finding[],
  checked: CheckedCallSummary[] | undefined,
  options: AnalyzeOptions,
  incomplete: IncompleteAnalysis[],
): ReturnType<typeof choosePdb> {
  if (!options.pdbs) return { problems: [] };
  const codeView = image.debugInfo?.codeView;
  const found = guarded(incomplete, 'source-lines', undefined, () => {
    const candidates = typeof options.pdbs === 'function' ? options.pdbs(codeView) : (options.pdbs ?? []);
    const choice = choosePdb(codeView, candidates);
    if (choice.pdb) {
      const index = sourceIndexOf(choice.pdb, image.sections.map((s) => s.virtualAddress));
      annotateFindings(findings, checked, { index, ...(options.sourcePath ? { sourcePath: options.sourcePath } : {}) });
    }
    return { ...(choice.use ? { use: choice.use } : {}), problems: choice.problems };
  });
  return found ?? { problems: [] };
}

/** Runs one part of the analysis; a failure is recorded as incomplete instead of escaping. */
function guarded<T>(incomplete: IncompleteAnalysis[], part: IncompleteAnalysis['part'], ruleId: RuleId | undefined, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    incomplete.push(failureOf(part, ruleId, e));
    return undefined;
  }
}

function failureOf(part: IncompleteAnalysis['part'], ruleId: RuleId | undefined, e: unknown): IncompleteAnalysis {
  const reason = e instanceof BudgetExceeded ? `${e.message}: the file is too large or too complex to analyse fully` : `internal error (please report it): ${oneLine(e)}`;
  return { part, ...(ruleId === undefined ? {} : { ruleId }), reason };
}

function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/** Checked calls listed per file (a hostile file can have hundreds of thousands). */
export const MAX_CHECKED_CALLS = 2000;

/** Every call the call-site rules examined, compatible ones included, so users see what was checked. */
function checkedCalls(image: PeImage): { list: CheckedCallSummary[]; omitted: number } | undefined {
  const result = analyzeCalls(image);
  if (!result.supported) return undefined;
  // Call sites in a packed-looking section were not analysed (rule packed-section).
  const calls = result.calls.filter((c) => packedSectionAt(image, c.callRva) === undefined);
  const list = calls.slice(0, MAX_CHECKED_CALLS).map((c) => ({
    api: c.api,
    ruleId: c.rule,
    callRva: c.callRva,
    function: c.function,
    verdict: c.verdict,
    values: c.values.map((v) => v.value ?? v.raw ?? v.origin),
    form: c.form,
    ...(c.severity === 'error' || c.severity === 'warning' ? { severity: c.severity } : {}),
    ...(c.context ? { context: c.context.reason } : {}),
  }));
  return { list, omitted: calls.length - list.length };
}

const imageRules = rules.filter((r) => !r.meta.requiresCode);

/** --image-only: the rules that read code are listed as not applied, with that reason (unless another reason came first). */
function skippedByImageOnly(notApplied: readonly RuleNotApplied[]): RuleNotApplied[] {
  return rules
    .filter((r) => r.meta.requiresCode && !notApplied.some((n) => n.ruleId === r.meta.id))
    .map((r) => ({ ruleId: r.meta.id, reason: 'not run: --image-only checks the image alone, no code is decoded' }));
}

/**
 * Call-site analysis exists for x86 and x64 only: say so rather than pass silently. Elsewhere
 * it ran when some rule that reads code applied (rulesNotApplied says why the others did not).
 */
function callSiteCoverage(image: PeImage, list: readonly Rule[], notApplied: readonly RuleNotApplied[]): CallSiteAnalysis {
  if (!decodesMachineCode(image)) return 'unsupported-machine';
  return list.some((r) => r.meta.requiresCode && !notApplied.some((n) => n.ruleId === r.meta.id)) ? 'complete' : 'not-run';
}

function imageFacts(image: PeImage): ImageFacts {
  const oh = image.optionalHeader;
  const facts: ImageFacts = {
    imageBase: hex(oh.imageBase),
    entryPointRva: hex(oh.addressOfEntryPoint),
    sectionAlignment: hex(oh.sectionAlignment),
    fileAlignment: hex(oh.fileAlignment),
    sizeOfImage: hex(oh.sizeOfImage),
    dllCharacteristics: hex(oh.dllCharacteristics, 4),
    linkerVersion: `${oh.majorLinkerVersion}.${oh.minorLinkerVersion}`,
    sections: image.sections.map((s) => ({
      name: s.name,
      ...(s.longName !== undefined ? { longName: s.longName } : {}),
      virtualAddress: hex(s.virtualAddress),
      virtualSize: hex(s.virtualSize),
      sizeOfRawData: hex(s.sizeOfRawData),
      pointerToRawData: hex(s.pointerToRawData),
      characteristics: hex(s.characteristics, 8),
      rights: rights(s.characteristics),
    })),
    imports: image.allImports.map((m) => ({ dll: m.dll, delayLoaded: m.delayLoaded, functions: m.functions.length })),
    // ABSOLUTE entries are padding, not fix-ups.
    relocationCount: image.baseRelocations.entries.filter((r) => r.type !== 0).length,
    signed: image.security?.insideFile ?? false,
  };
  const pdb = image.debugInfo?.codeView?.pdbPath;
  if (pdb) facts.pdbPath = pdb;
  return facts;
}
