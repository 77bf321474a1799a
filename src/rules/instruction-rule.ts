/**
 * An instruction rule (the rule book's §8 heuristics: CR0/CR4/MSR writes, stores into code,
 * calls into generated code, MDLs over code, calls of APIs whose protection the component
 * decides): it finds instructions in the reached functions of the code model and says what
 * each one means. `defineInstructionRule` does the rest once: the code model, the evidence
 * every such finding carries (function, instruction, the instructions around it), and the
 * conditions of a rule that reads code.
 */
import { type CodeModel, withCodeModel } from '../analysis/code-model.js';
import { hex, type PeImage } from '../pe/index.js';
import { defineRule, type MessageArguments, type Rule, type RuleMeta, type Severity } from './types.js';

/** One instruction found in a function. */
export interface InstructionSite {
  rva: number;
  function: string;
  functionRva: number;
  /** The instruction as the decoder prints it. */
  text: string;
  /** Instructions around it that make the case (may be empty). */
  context: ReadonlyArray<{ rva: number; text: string }>;
}

/** What the rule says about one site: its message, and the evidence beyond the instruction. */
export interface InstructionReport<M extends string> {
  messageId: M;
  args: MessageArguments;
  evidence?: Record<string, unknown>;
  severity?: Severity;
}

export interface InstructionRuleSpec<M extends string, S extends InstructionSite> {
  meta: Omit<RuleMeta<M>, 'requiresCode'>;
  /** The sites in the image's reached code. */
  find(model: CodeModel, image: PeImage): Iterable<S>;
  /** The rule's own conditions beyond reading code (e.g. `x86Only`: no such instruction on ARM64). */
  appliesTo?: Rule<M>['appliesTo'];
  /** The finding one site makes. */
  describe(site: S, model: CodeModel): InstructionReport<M>;
}

export function defineInstructionRule<M extends string, S extends InstructionSite>(spec: InstructionRuleSpec<M, S>): Rule<M> {
  return defineRule({
    meta: { ...spec.meta, requiresCode: true },
    ...(spec.appliesTo ? { appliesTo: spec.appliesTo } : {}),
    check(image, ctx) {
      withCodeModel(image, (model) => {
        for (const site of spec.find(model, image)) {
          const { messageId, args, evidence = {}, severity } = spec.describe(site, model);
          // The runner adds the file offset and section of the RVA.
          ctx.report(messageId, args, { rva: site.rva, evidence: { ...siteEvidence(site), ...evidence }, ...(severity ? { severity } : {}) });
        }
      });
    },
  });
}


function siteEvidence(site: InstructionSite): Record<string, unknown> {
  return {
    function: site.function,
    functionRva: hex(site.functionRva),
    instruction: site.text,
    context: site.context.map((c) => ({ rva: hex(c.rva), text: c.text })),
  };
}
