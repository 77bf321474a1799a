/**
 * Points an explanation at the driver binary: the function and call site behind a caller
 * address (bug check 0xC4 0x2000–0x2002, Verifier caller messages), or the findings behind
 * an image-level message. Pure: the CLI reads the file and runs analyze().
 */
import { CodeModel, codeModelOf } from '../analysis/code-model.js';
import { functionName } from '../analysis/functions.js';
import { hex, type PeImage } from '../pe/index.js';
import type { FileReport, Finding } from '../report/model.js';
import type { Explanation } from './explain.js';

export interface DriverContext {
  driver: string;
  /** The caller address as an RVA (with a module base). */
  rva?: string;
  function?: string;
  /** The call instruction whose return address is the caller address. */
  callSite?: { rva: string; text: string };
  /** Our findings that match what Windows reported. */
  findings: Finding[];
  /** How the match was made, or why there is none. */
  note: string;
}

const PAGE_MASK = 0xfffn;

export function locateInDriver(explanation: Explanation, report: FileReport, image: PeImage | undefined, base?: bigint): DriverContext {
  const ctx: DriverContext = { driver: report.path, findings: [], note: '' };
  const relevant = report.findings.filter((f) => (explanation.ruleIds as readonly string[]).includes(f.ruleId));
  const model = image ? codeModelOf(image) : undefined;
  const code = model instanceof CodeModel ? model : undefined;
  if (explanation.callerAddress !== undefined) {
    const address = BigInt(explanation.callerAddress);
    if (base !== undefined) {
      const rva = Number(address - base);
      if (address < base || !image || rva >= image.optionalHeader.sizeOfImage) {
        ctx.note = `${hex(address)} is not inside the driver loaded at ${hex(base)} (SizeOfImage ${hex(image?.optionalHeader.sizeOfImage ?? 0)}): check the base (lm m <driver>) and that this is the driver that was loaded.`;
        return ctx;
      }
      ctx.rva = hex(rva);
      const site = code ? callEndingAt(code, rva) : undefined;
      if (code) {
        const fn = code.functions.containing(rva);
        if (fn) ctx.function = functionName(fn);
      }
      if (site) ctx.callSite = site;
      const callRva = site ? Number(site.rva) : rva;
      ctx.findings = relevant.filter((f) => callRvaOf(f) === callRva || f.rva === callRva);
      ctx.note = ctx.findings.length
        ? `The caller address is the return address of the call at ${hex(callRva)}; hvci reports that call.`
        : `hvci reports no ${explanation.ruleIds.join('/')} finding at this call${site ? '' : ' (no call instruction ends at this address)'}; the value may be computed at run time — look at the code at this address.`;
      return ctx;
    }
    // Without the base only the page offset is known: drivers load page-aligned.
    const low = Number(address & PAGE_MASK);
    ctx.findings = relevant.filter((f) => {
      const callRva = callRvaOf(f);
      if (callRva === undefined || !code) return false;
      const end = callEndRva(code, callRva);
      return end !== undefined && (end & 0xfff) === low;
    });
    ctx.note = ctx.findings.length
      ? `Matched by page offset ${hex(low)} of the caller address (drivers are loaded page-aligned); give --base to be certain.`
      : `No ${explanation.ruleIds.join('/')} call of this driver returns to page offset ${hex(low)}; give --base <load address> (lm m <driver>) to locate the address.`;
    return ctx;
  }
  ctx.findings = explanation.sectionName === undefined ? relevant : relevant.filter((f) => f.section === explanation.sectionName);
  ctx.note = ctx.findings.length
    ? `hvci finds the same problem in this binary${explanation.sectionName ? ` (section ${explanation.sectionName})` : ''}.`
    : explanation.ruleIds.length
      ? `hvci finds no ${explanation.ruleIds.join('/')} problem in this binary: is it the same build that Windows loaded?`
      : 'This output names no rule to look for in the binary.';
  return ctx;
}

function callRvaOf(f: Finding): number | undefined {
  const call = f.evidence?.call as { rva?: unknown } | undefined;
  if (typeof call?.rva === 'string') return Number(call.rva);
  return f.rva;
}

function callEndRva(code: CodeModel, callRva: number): number | undefined {
  const fn = code.functions.containing(callRva);
  if (!fn) return undefined;
  const fc = code.code(fn);
  const i = fc.indexOf.get(callRva);
  const insn = i === undefined ? undefined : fc.insns[i];
  return insn ? insn.rva + insn.length : undefined;
}

/** The call instruction that returns to `rva` (the caller address is a return address). */
function callEndingAt(code: CodeModel, rva: number): { rva: string; text: string } | undefined {
  const fn = code.functions.containing(rva - 1);
  if (!fn) return undefined;
  const fc = code.code(fn);
  const insn = fc.insns.find((x) => x.rva + x.length === rva && (x.flow === 'call' || x.flow === 'call-indirect'));
  return insn ? { rva: hex(insn.rva), text: code.format(insn.rva) } : undefined;
}
