import { sha256 as sha256Digest } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { analyzeCalls } from './analysis/call-analysis.js';
import type { BlocklistIndex } from './blocklist/index.js';
import { releaseCodeModel } from './analysis/code-model.js';
import { classify } from './analysis/image-kind.js';
import { hex, parsePe, type PeImage, rights } from './pe/index.js';
import { assignFingerprints } from './report/fingerprint.js';
import type { CallSiteAnalysis, CheckedCallSummary, FileReport, Finding, ImageFacts } from './report/model.js';
import { verdictOf } from './report/model.js';
import { rules } from './rules/index.js';
import { readSignature } from './signature/index.js';
import { DEFAULT_TARGET_OS, type TargetOs } from './rules/target-os.js';
import { type AnalysisOptions, formatMessage, type Rule } from './rules/types.js';

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
}

export const docsPathOf = (ruleId: string): string => `docs/rules/${ruleId}.md`;

/** Analyses one file's bytes. Pure: no I/O, never throws on bad input. */
export function analyze(bytes: Uint8Array, options: AnalyzeOptions = {}): FileReport {
  const base = {
    path: options.path ?? '<memory>',
    sha256: options.sha256 ?? bytesToHex(sha256Digest(bytes)),
    size: bytes.byteLength,
  };
  const parsed = parsePe(bytes);
  if (!parsed.ok) {
    return {
      ...base,
      status: 'error',
      error: parsed.error.message,
      errorCode: parsed.error.code,
      kind: 'not-pe',
      kernelMode: false,
      machine: 'unknown',
      verdict: 'unknown',
      callSiteAnalysis: 'not-run',
      findings: [],
      problems: [],
    };
  }
  const image = parsed.image;
  const cls = classify(image);
  const analysisOptions: AnalysisOptions = {
    targetOs: options.targetOs ?? DEFAULT_TARGET_OS,
    ...(options.blocklist ? { blocklist: options.blocklist } : {}),
  };
  const coverage = callSiteCoverage(image, options.rules ?? rules);
  let findings: Finding[];
  let checked: CheckedCallSummary[] | undefined;
  try {
    findings = runRules(image, options.rules ?? rules, analysisOptions);
    checked = coverage === 'complete' ? checkedCalls(image) : undefined;
  } finally {
    // Once per image, after every rule: the decoder's wasm memory is not garbage-collected.
    releaseCodeModel(image);
  }
  assignFingerprints(findings, image);
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
    ...(checked ? { checkedCalls: checked } : {}),
    problems: [...image.issues, ...signed.problems],
    image: imageFacts(image),
    version: image.versionInfo ?? null,
    signature: signed.signature,
  };
}

/** Every call the call-site rules examined, compatible ones included, so users see what was checked. */
function checkedCalls(image: PeImage): CheckedCallSummary[] | undefined {
  const result = analyzeCalls(image);
  if (!result.supported) return undefined;
  return result.calls.map((c) => ({
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
}

/** Call-site analysis exists for x86 and x64 only; say so rather than pass silently. */
function callSiteCoverage(image: PeImage, list: readonly Rule[]): CallSiteAnalysis {
  if (!CODE_MACHINES.has(image.machine)) return 'unsupported-machine';
  return list.some((r) => r.meta.requiresCode) ? 'complete' : 'not-run';
}

const CODE_MACHINES = new Set([0x014c, 0x8664]);

function runRules(image: PeImage, list: readonly Rule[], options: AnalysisOptions): Finding[] {
  const findings: Finding[] = [];
  for (const rule of list) {
    const { meta } = rule;
    if (meta.requiresCode && !CODE_MACHINES.has(image.machine)) continue;
    rule.check(image, {
      options,
      report(messageId, args, details = {}) {
        const template = (meta.messages as Record<string, string>)[messageId];
        if (template === undefined) throw new Error(`rule ${meta.id} reported unknown message id ${messageId}`);
        const { severity, ...where } = details;
        findings.push({
          ruleId: meta.id,
          severity: severity ?? meta.defaultSeverity,
          message: formatMessage(template, args),
          messageId,
          arguments: args,
          ...where,
          // A call-site finding knows the exact fix for its API; else the rule's resolution.
          fix: typeof where.evidence?.fix === 'string' ? where.evidence.fix : meta.docs.resolution,
          docs: docsPathOf(meta.id),
        });
      },
    });
  }
  return findings;
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
