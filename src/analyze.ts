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
import { errorFileReport, MORE_LIKE_THIS, verdictOf } from './report/model.js';
import { rules } from './rules/index.js';
import { readSignature } from './signature/index.js';
import { DEFAULT_TARGET_OS, type TargetOs } from './rules/target-os.js';
import { type AnalysisOptions, formatMessage, type Rule, type Severity } from './rules/types.js';

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

export const docsPathOf = (ruleId: string): string => `docs/rules/${ruleId}.md`;

/** Findings listed per rule and file; the rest are counted in one "more like this" finding. */
export const MAX_FINDINGS_PER_RULE = 100;

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
  let coverage = callSiteCoverage(image, list);
  const incomplete: IncompleteAnalysis[] = [];
  let findings: Finding[];
  let checked: ReturnType<typeof checkedCalls>;
  try {
    findings = runRules(image, list, analysisOptions, incomplete);
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
function guarded<T>(incomplete: IncompleteAnalysis[], part: IncompleteAnalysis['part'], ruleId: string | undefined, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    const reason = e instanceof BudgetExceeded ? `${e.message}: the file is too large or too complex to analyse fully` : `internal error (please report it): ${oneLine(e)}`;
    incomplete.push({ part, ...(ruleId === undefined ? {} : { ruleId }), reason });
    return undefined;
  }
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

/** Call-site analysis exists for x86 and x64 only; say so rather than pass silently. */
function callSiteCoverage(image: PeImage, list: readonly Rule[]): CallSiteAnalysis {
  if (!CODE_MACHINES.has(image.machine)) return 'unsupported-machine';
  return list.some((r) => r.meta.requiresCode) ? 'complete' : 'not-run';
}

const CODE_MACHINES = new Set([0x014c, 0x8664]);

/** The note that stands in for every code finding of a packed-looking section. */
const PACKED_NOTE = 'packed-section';

function runRules(image: PeImage, list: readonly Rule[], options: AnalysisOptions, incomplete: IncompleteAnalysis[]): Finding[] {
  const findings: Finding[] = [];
  for (const rule of list) {
    const { meta } = rule;
    if (meta.requiresCode && !CODE_MACHINES.has(image.machine)) continue;
    let listed = 0;
    let omitted = 0;
    let omittedSeverity: Severity = 'note';
    guarded(incomplete, 'rule', meta.id, () =>
      rule.check(image, {
        options,
        report(messageId, args, details = {}) {
          const template = (meta.messages as Record<string, string>)[messageId];
          if (template === undefined) throw new Error(`rule ${meta.id} reported unknown message id ${messageId}`);
          // Machine code in a packed-looking section proves nothing: its one packed-section
          // note replaces the code rules' findings there (image rules still report).
          if (meta.requiresCode && meta.id !== PACKED_NOTE && details.rva !== undefined && packedSectionAt(image, details.rva)) return;
          const { severity: given, ...where } = details;
          const severity = given ?? meta.defaultSeverity;
          // A hostile file can trip a rule hundreds of thousands of times: list the first
          // ones, count the rest (reports stay small enough to render and read).
          if (listed >= MAX_FINDINGS_PER_RULE) {
            omitted++;
            if (SEVERITY_RANK[severity] > SEVERITY_RANK[omittedSeverity]) omittedSeverity = severity;
            return;
          }
          listed++;
          findings.push({
            ruleId: meta.id,
            severity,
            message: formatMessage(template, args),
            messageId,
            arguments: args,
            ...where,
            // A call-site finding knows the exact fix for its API; else the rule's resolution.
            fix: typeof where.evidence?.fix === 'string' ? where.evidence.fix : meta.docs.resolution,
            docs: docsPathOf(meta.id),
          });
        },
      }),
    );
    if (omitted > 0) findings.push(moreLikeThis(meta.id, meta.docs.resolution, omitted, omittedSeverity));
  }
  return findings;
}

const SEVERITY_RANK: Record<Severity, number> = { note: 0, warning: 1, error: 2 };

/** Stands for the findings of one rule past MAX_FINDINGS_PER_RULE, with their worst severity. */
function moreLikeThis(ruleId: string, resolution: string, omitted: number, severity: Severity): Finding {
  return {
    ruleId,
    severity,
    message: `…and ${omitted} more findings of this rule in this file, not listed (at most ${MAX_FINDINGS_PER_RULE} are listed per rule and file).`,
    messageId: MORE_LIKE_THIS,
    arguments: { count: omitted, limit: MAX_FINDINGS_PER_RULE },
    evidence: { omitted },
    fix: resolution,
    docs: docsPathOf(ruleId),
  };
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
