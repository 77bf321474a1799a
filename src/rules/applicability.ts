/**
 * When a rule applies. A rule that does not apply is not silently skipped: the report lists
 * it with the reason (FileReport.rulesNotApplied), so a reader knows what was not checked.
 */
import { isExecutable, type PeImage } from '../pe/index.js';
import type { Applicability, ImageContext, Rule } from './types.js';

/** Machines whose code the decoders read: i386, AMD64 (iced-x86) and ARM64 (analysis/arm64). */
const CODE_MACHINES = new Set([0x014c, 0x8664, 0xaa64]);

export function decodesMachineCode(image: PeImage): boolean {
  return CODE_MACHINES.has(image.machine);
}

/** The conditions of every rule that reads machine code (`meta.requiresCode`). */
export function codeApplicability(image: PeImage, facts: ImageContext): Applicability {
  if (!decodesMachineCode(image)) return `reads x86, x64 and ARM64 machine code; ${image.machineName.toUpperCase()} code is not decoded`;
  const { classification: c } = facts;
  if (!c.kernelMode) return `not kernel-mode code (${c.kind}: ${c.reason}); HVCI governs kernel code only`;
  if (!image.sections.some(isExecutable)) return 'no executable section: there is no machine code to read';
  return true;
}

/** Whether `rule` applies to `image`: the code conditions first, then the rule's own. */
export function applicabilityOf(rule: Rule, image: PeImage, facts: ImageContext): Applicability {
  if (rule.meta.requiresCode) {
    const code = codeApplicability(image, facts);
    if (code !== true) return code;
  }
  return rule.appliesTo ? rule.appliesTo(image, facts) : true;
}

/** For rules about x86 instructions (control registers, MSRs): ARM64 has none of them. */
export function x86Only(image: PeImage): Applicability {
  return image.machine === 0xaa64 ? 'an x86/x64 instruction (CR0, CR4, MSR writes); ARM64 code has no such instruction' : true;
}
