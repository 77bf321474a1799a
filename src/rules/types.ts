import type { ImageClassification } from '../analysis/image-kind.js';
import type { PeImage } from '../pe/index.js';
import type { BlocklistIndex } from '../blocklist/index.js';
import type { RuleId } from './ids.js';
import type { TargetOs } from './target-os.js';

export type { RuleId } from './ids.js';
export type Severity = 'error' | 'warning' | 'note';

/** Values a message template can interpolate ("{section}"). */
export type MessageArguments = Record<string, string | number>;

export interface RuleDocs {
  /** One line: what the rule flags. */
  title: string;
  /** What the rule checks and why HVCI cares, in a few sentences (our words). */
  description: string;
  /** The fix, in one sentence. */
  resolution: string;
  /** Section of the rule book (../shared/spec/hvci-rules.md) that defines the rule. */
  ruleBook: string;
  /** Driver Verifier code-integrity equivalent (bug check 0xC4 parameter 1), if any. */
  verifier?: string;
  /** WDK Code Analysis / BinSkim equivalents, if any. */
  related?: string;
  /** Parts of the rule that rest on facts the rule book marks unconfirmed. */
  unconfirmed?: string;
  /** Why Windows refuses it: Microsoft's rationale, in our words (docs page "Why HVCI rejects it"). */
  why?: string;
  /** WDK Code Analysis (C30029–C30035) equivalents; default: the C300xx ids named in `related`. */
  wdk?: string;
  /** An example of what the report shows (text report lines), from a real fixture. */
  example?: { fixture: string; text: string };
}

export interface RuleMeta<M extends string = string> {
  /** The rule book's id: also the file name and docs/rules/<id>.md. */
  id: RuleId;
  defaultSeverity: Severity;
  docs: RuleDocs;
  /** Message templates by id; findings carry the id plus arguments. */
  messages: Record<M, string>;
  /**
   * The rule reads machine code (call sites, instructions): it applies only to kernel-mode
   * x86, x64 and ARM64 images with an executable section (src/rules/applicability.ts says why not).
   */
  requiresCode?: boolean;
}

/** Where a finding points and what proves it. */
export interface FindingDetails {
  rva?: number;
  /** Filled by the runner from `rva` when absent (give it only for places without an RVA: headers). */
  fileOffset?: number;
  /** Filled by the runner from `rva` when absent. */
  section?: string;
  /** Structured proof: section headers, relocation entries, directory entries… */
  evidence?: Record<string, unknown>;
  /** Overrides the rule's default severity (target OS, heuristics). */
  severity?: Severity;
}

export interface AnalysisOptions {
  /** The oldest Windows release the driver must load on. */
  targetOs: TargetOs;
  /** Driver block rules to match (vulnerable-driver-blocklist); the bundled Microsoft list when absent. */
  blocklist?: BlocklistIndex;
}

export interface RuleContext<M extends string = string> {
  readonly options: AnalysisOptions;
  report(messageId: M, args: MessageArguments, details?: FindingDetails): void;
}

/** What the runner knows about an image before any rule runs. */
export interface ImageContext {
  classification: ImageClassification;
}

/** `true`, or why the rule does not apply to this image (listed in the report's rulesNotApplied). */
export type Applicability = true | string;

export interface Rule<M extends string = string> {
  meta: RuleMeta<M>;
  /** When the rule applies beyond `requiresCode`'s conditions; always when absent. */
  appliesTo?(image: PeImage, facts: ImageContext): Applicability;
  check(image: PeImage, ctx: RuleContext<M>): void;
}

/** Identity helper so each rule module infers its message ids. */
export function defineRule<M extends string>(rule: Rule<M>): Rule<M> {
  return rule;
}

export function formatMessage(template: string, args: MessageArguments): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in args ? String(args[key]) : whole));
}
