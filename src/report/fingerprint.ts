/**
 * Finding fingerprints: one string per finding that stays the same when the same code is
 * rebuilt, so JSON, SARIF (`partialFingerprints`) and `--baseline` can recognise a finding
 * they have seen before. Computed here and nowhere else.
 *
 * What goes in, and what deliberately does not:
 * - always the rule id and message id;
 * - image-level findings: the section name and its characteristics, and the message
 *   arguments that describe *what* is wrong (rights, relocation type, width, DLL name);
 * - call-site findings (evidence carries `api`): the API, the resolved value(s), an
 *   exported function name, and a hash of the instructions around the call with every
 *   address, displacement and branch target replaced by a placeholder;
 * - never an RVA, a file offset, a size or a `sub_<rva>` name: those move when an unrelated
 *   function is added to the driver;
 * - never the file path: the baseline pairs a fingerprint with the file name itself.
 * Identical findings in one file are told apart by a 1-based occurrence number (":2").
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Finding } from './model.js';

/** Bumped when the recipe changes, so old baselines are recognised as such. */
export const FINGERPRINT_VERSION = 'v1';
/** The key under SARIF `partialFingerprints`. */
export const SARIF_FINGERPRINT_KEY = `hvci/${FINGERPRINT_VERSION}`;

/** Argument names whose values move with the layout (addresses, sizes, offsets) or the options. */
const UNSTABLE_ARGUMENT = /(^|[a-z])(rva|va|offset|address|size|consequence|target|base)$/i;
/**
 * The normalised code around a call site (analysis/call-site-code.ts), given by the analysis:
 * fingerprints are computed while the image is analysed, and this module decodes nothing.
 */
export type CodeAround = (callRva: number) => string | undefined;

/** Sets `fingerprint` on every finding of one file. */
export function assignFingerprints(findings: Finding[], codeAround?: CodeAround): void {
  const seen = new Map<string, number>();
  for (const f of findings) {
    const base = baseFingerprint(f, codeAround);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    f.fingerprint = n === 1 ? base : `${base}:${n}`;
  }
}

/** The fingerprint of one finding, before occurrence numbering. */
export function baseFingerprint(f: Finding, codeAround?: CodeAround): string {
  const parts = [`rule=${f.ruleId}`, `msg=${f.messageId}`];
  if (f.section !== undefined) parts.push(`section=${f.section}`);
  const api = f.evidence?.api;
  if (typeof api === 'string') {
    // Call sites: message arguments name functions sub_<rva> and origins by address, so
    // only the evidence that describes the call itself goes in.
    parts.push(`api=${api}`, ...callSiteParts(f, codeAround));
  } else {
    const sectionEvidence = f.evidence?.section as { characteristics?: unknown } | undefined;
    if (typeof sectionEvidence?.characteristics === 'string') parts.push(`characteristics=${sectionEvidence.characteristics}`);
    for (const key of Object.keys(f.arguments).sort()) {
      if (!UNSTABLE_ARGUMENT.test(key)) parts.push(`arg.${key}=${withoutAddresses(String(f.arguments[key]))}`);
    }
  }
  return `${FINGERPRINT_VERSION}:${hash(parts.join('\n'))}`;
}

/** "sub_1400" names and RVAs in free text move with the layout. */
function withoutAddresses(text: string): string {
  return text.replace(/\bsub_[0-9a-f]+\b/gi, 'sub_*').replace(/\b0x[0-9a-f]{4,}\b/gi, 'ADDR');
}

function callSiteParts(f: Finding, codeAround: CodeAround | undefined): string[] {
  const ev = f.evidence ?? {};
  const parts: string[] = [];
  const argument = (ev.argument as { name?: unknown } | undefined)?.name;
  if (typeof argument === 'string') parts.push(`argument=${argument}`);
  if (ev.value !== undefined) parts.push(`value=${String(ev.value)}`);
  if (Array.isArray(ev.allValues)) {
    for (const v of ev.allValues) parts.push(`value=${String((v as { value?: unknown }).value)}`);
  }
  if (ev.inlineMacro !== undefined) parts.push(`inline=${String(ev.inlineMacro)}`);
  const fn = ev.function;
  if (typeof fn === 'string' && !/^sub_[0-9a-f]+$/i.test(fn)) parts.push(`function=${fn}`);
  if (codeAround && f.rva !== undefined) {
    const code = codeAround(f.rva);
    if (code !== undefined) parts.push(`code=${hash(code)}`);
  }
  return parts;
}

function hash(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text))).slice(0, 32);
}
