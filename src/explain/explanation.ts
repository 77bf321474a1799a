/**
 * What an explanation is, and what the detectors share: number parsing, file names in text,
 * the scan hint and the fix of a rule (its own resolution, so explain and scan never disagree).
 */
import { ruleById, type RuleId } from '../rules/index.js';

export type ExplainKind =
  | 'bugcheck-c4'
  | 'verifier-message'
  | 'verifier-flags'
  | 'verifier-counters'
  | 'hvciscan'
  | 'dg-readiness'
  | 'deviceguard-wmi'
  | 'computerinfo'
  | 'codeintegrity-event'
  | 'incompatible-drivers'
  | 'pnputil';

export interface DecodedValue {
  name: string;
  value: string;
  meaning: string;
}

export interface Explanation {
  kind: ExplainKind;
  /** One line: what this is. */
  title: string;
  /** Whether it reports a code-integrity (HVCI) problem or state. */
  codeIntegrity: boolean;
  /** Our rule ids that correspond (empty when none does). */
  /** The hvci rules that check for it (typed: an id outside the registry does not compile). */
  ruleIds: RuleId[];
  /** What it means, in a few sentences. */
  meaning: string;
  values: DecodedValue[];
  /** What to do. */
  fix: string;
  /** An address in the driver's code (bug check 0x2000–0x2002, verifier caller messages). */
  callerAddress?: string;
  /** The section Windows named (0x2003–0x2005 messages). */
  sectionName?: string;
  /** Driver files named in the text. */
  drivers?: string[];
  /** Driver packages (oemNN.inf) named in the text. */
  packages?: string[];
  notes?: string[];
}

export const SCAN_HINT = 'Run `hvci scan <driver.sys>` on the driver binary to see every place it breaks HVCI, with the fix for each.';

/** Reads text and returns what it recognises, or undefined. */
export type Detector = (text: string) => Explanation | undefined;

/** The fix for a rule's problem: the rule's own resolution, so explain and scan never disagree. */
export const fixOf = (id: RuleId): string => ruleById(id).meta.docs.resolution;

/** A number as Windows and debuggers print it: hex with or without 0x, ` separators, a trailing dot. */
export const parseNumber = (s: string): bigint | undefined => {
  const clean = s.replace(/[`_]/g, '').replace(/\.$/, '');
  if (!/^(0x)?[0-9a-f]+$/i.test(clean)) return undefined;
  return BigInt(clean.toLowerCase().startsWith('0x') ? clean : `0x${clean}`);
};

export const sysNames = (text: string): string[] => [...new Set([...text.matchAll(/\b([\w.-]+\.sys)\b/gi)].map((m) => m[1] as string))];
export const infNames = (text: string): string[] => [...new Set([...text.matchAll(/\b(oem\d+\.inf)\b/gi)].map((m) => (m[1] as string).toLowerCase()))];
