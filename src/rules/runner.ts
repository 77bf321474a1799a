/**
 * Runs the rules on one image: decides which apply (and why the others do not), gives each a
 * report() that turns message ids into findings, fills a finding's file offset and section
 * from its RVA once for every rule, and caps the findings of one rule in one file.
 */
import { packedSectionAt } from '../analysis/packed.js';
import type { PeImage } from '../pe/index.js';
import { applicabilityOf } from './applicability.js';
import type { RuleId } from './ids.js';
import { type AnalysisOptions, formatMessage, type FindingDetails, type ImageContext, type MessageArguments, type Rule, type Severity } from './types.js';

/** A finding as a rule reports it; the report adds fingerprints and suppressions (report/model.ts). */
export interface RuleFinding {
  ruleId: RuleId;
  severity: Severity;
  message: string;
  messageId: string;
  arguments: MessageArguments;
  rva?: number;
  fileOffset?: number;
  section?: string;
  evidence?: Record<string, unknown>;
  /** How to fix it, one sentence. */
  fix: string;
  /** The rule's documentation page, relative to the package root. */
  docs: string;
}

/** A rule that did not run on this file, and why (the report lists them). */
export interface RuleNotApplied {
  ruleId: RuleId;
  reason: string;
}

export interface RuleRun {
  findings: RuleFinding[];
  notApplied: RuleNotApplied[];
  /** Rules that threw (a budget ran out, or a bug): their earlier findings are kept. */
  failures: Array<{ ruleId: RuleId; error: unknown }>;
}

export const docsPathOf = (ruleId: string): string => `docs/rules/${ruleId}.md`;

/** Findings listed per rule and file; the rest are counted in one "more like this" finding. */
export const MAX_FINDINGS_PER_RULE = 100;

/** The message id of the finding that stands for a rule's findings past the per-file cap. */
export const MORE_LIKE_THIS = 'more-like-this';

/** The note that stands in for every code finding of a packed-looking section. */
const PACKED_NOTE: RuleId = 'packed-section';

export function runRules(image: PeImage, list: readonly Rule[], options: AnalysisOptions, facts: ImageContext): RuleRun {
  const run: RuleRun = { findings: [], notApplied: [], failures: [] };
  for (const rule of list) {
    const { meta } = rule;
    const applies = applicabilityOf(rule, image, facts);
    if (applies !== true) {
      run.notApplied.push({ ruleId: meta.id, reason: applies });
      continue;
    }
    let listed = 0;
    let omitted = 0;
    let omittedSeverity: Severity = 'note';
    try {
      rule.check(image, {
        options,
        report(messageId, args, details = {}) {
          const template = (meta.messages as Record<string, string>)[messageId];
          if (template === undefined) throw new Error(`rule ${meta.id} reported unknown message id ${messageId}`);
          // Machine code in a packed-looking section proves nothing: its one packed-section
          // note replaces the code rules' findings there (image rules still report).
          if (meta.requiresCode && meta.id !== PACKED_NOTE && details.rva !== undefined && packedSectionAt(image, details.rva)) return;
          const severity = details.severity ?? meta.defaultSeverity;
          // A hostile file can trip a rule hundreds of thousands of times: list the first
          // ones, count the rest (reports stay small enough to render and read).
          if (listed >= MAX_FINDINGS_PER_RULE) {
            omitted++;
            if (SEVERITY_RANK[severity] > SEVERITY_RANK[omittedSeverity]) omittedSeverity = severity;
            return;
          }
          listed++;
          run.findings.push({
            ruleId: meta.id,
            severity,
            message: formatMessage(template, args),
            messageId,
            arguments: args,
            ...placeOf(image, details),
            // A call-site finding knows the exact fix for its API; else the rule's resolution.
            fix: typeof details.evidence?.fix === 'string' ? details.evidence.fix : meta.docs.resolution,
            docs: docsPathOf(meta.id),
          });
        },
      });
    } catch (error) {
      run.failures.push({ ruleId: meta.id, error });
    }
    if (omitted > 0) run.findings.push(moreLikeThis(meta.id, meta.docs.resolution, omitted, omittedSeverity));
  }
  return run;
}

/** Where a finding points: the rule's RVA, with the file offset and section it lies in unless the rule gave them. */
function placeOf(image: PeImage, d: FindingDetails): Pick<RuleFinding, 'rva' | 'fileOffset' | 'section' | 'evidence'> {
  const fileOffset = d.fileOffset ?? (d.rva === undefined ? undefined : image.space.offsetOf(d.rva));
  const section = d.section ?? (d.rva === undefined ? undefined : image.space.sectionAt(d.rva)?.name);
  return {
    ...(d.rva !== undefined ? { rva: d.rva } : {}),
    ...(fileOffset !== undefined ? { fileOffset } : {}),
    ...(section !== undefined ? { section } : {}),
    ...(d.evidence !== undefined ? { evidence: d.evidence } : {}),
  };
}

const SEVERITY_RANK: Record<Severity, number> = { note: 0, warning: 1, error: 2 };

/** Stands for the findings of one rule past MAX_FINDINGS_PER_RULE, with their worst severity. */
function moreLikeThis(ruleId: RuleId, resolution: string, omitted: number, severity: Severity): RuleFinding {
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
