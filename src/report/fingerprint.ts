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
import { CodeModel, codeModelOf } from '../analysis/code-model.js';
import type { Insn, Operand } from '../analysis/decoder.js';
import type { PeImage } from '../pe/index.js';
import type { Finding } from './model.js';

/** Bumped when the recipe changes, so old baselines are recognised as such. */
export const FINGERPRINT_VERSION = 'v1';
/** The key under SARIF `partialFingerprints`. */
export const SARIF_FINGERPRINT_KEY = `hvci/${FINGERPRINT_VERSION}`;

/** Argument names whose values move with the layout (addresses, sizes, offsets) or the options. */
const UNSTABLE_ARGUMENT = /(^|[a-z])(rva|va|offset|address|size|consequence|target|base)$/i;
/** How many instructions before the call are part of the call-site hash. */
const WINDOW = 6;

/** Sets `fingerprint` on every finding of one file. */
export function assignFingerprints(findings: Finding[], image?: PeImage): void {
  const seen = new Map<string, number>();
  for (const f of findings) {
    const base = baseFingerprint(f, image);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    f.fingerprint = n === 1 ? base : `${base}:${n}`;
  }
}

/** The fingerprint of one finding, before occurrence numbering. */
export function baseFingerprint(f: Finding, image?: PeImage): string {
  const parts = [`rule=${f.ruleId}`, `msg=${f.messageId}`];
  if (f.section !== undefined) parts.push(`section=${f.section}`);
  const api = f.evidence?.api;
  if (typeof api === 'string') {
    // Call sites: message arguments name functions sub_<rva> and origins by address, so
    // only the evidence that describes the call itself goes in.
    parts.push(`api=${api}`, ...callSiteParts(f, image));
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

function callSiteParts(f: Finding, image: PeImage | undefined): string[] {
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
  if (image && f.rva !== undefined) {
    const code = normalisedCodeAround(image, f.rva);
    if (code !== undefined) parts.push(`code=${hash(code)}`);
  }
  return parts;
}

/**
 * The call instruction and up to WINDOW instructions before it in the same function, as
 * text with addresses blanked: "mov ecx,0x0 | call [IMPORT ExAllocatePoolWithTag]".
 * Undefined when the image has no decodable code at that RVA.
 */
export function normalisedCodeAround(image: PeImage, callRva: number): string | undefined {
  const m = codeModelOf(image);
  if (!(m instanceof CodeModel)) return undefined;
  const fn = m.functions.containing(callRva);
  if (!fn) return undefined;
  const code = m.code(fn);
  const index = code.indexOf.get(callRva);
  if (index === undefined) return undefined;
  const base = image.optionalHeader.imageBase;
  const ctx: NormaliseContext = {
    slots: m.importSlots,
    // An immediate inside the mapped image is an absolute address (x86), which moves.
    isAddress: (v) => v >= base && v < base + BigInt(image.optionalHeader.sizeOfImage),
  };
  const insns = code.insns.slice(Math.max(0, index - WINDOW), index + 1);
  return insns.map((insn) => normaliseInsn(insn, ctx)).join(' | ');
}

interface NormaliseContext {
  slots: ReadonlyMap<number, { name: string }>;
  isAddress(value: bigint): boolean;
}

function normaliseInsn(insn: Insn, ctx: NormaliseContext): string {
  return `${insn.mnemonic} ${insn.operands.map((op) => normaliseOperand(op, ctx)).join(',')}`;
}

const FRAME_REGISTERS = new Set(['rsp', 'esp', 'rbp', 'ebp']);

function normaliseOperand(op: Operand, ctx: NormaliseContext): string {
  switch (op.kind) {
    case 'reg':
      return op.reg;
    case 'imm':
      // Constants (pool types, protections, tags, sizes) are what the code means.
      return ctx.isAddress(op.value) ? 'ADDR' : `0x${op.value.toString(16)}`;
    case 'branch':
      return 'BRANCH';
    case 'mem': {
      if (op.target !== undefined) {
        const slot = ctx.slots.get(op.target);
        return slot ? `[IMPORT ${slot.name}]` : '[ADDR]';
      }
      const disp = op.base !== undefined && FRAME_REGISTERS.has(op.base) ? `+0x${op.disp.toString(16)}` : '+DISP';
      return `[${op.base ?? ''}${op.index ? `+${op.index}*${op.scale}` : ''}${disp}]`;
    }
    default:
      return '?';
  }
}

function hash(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text))).slice(0, 32);
}
