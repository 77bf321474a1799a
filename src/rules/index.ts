import codePatching from './code-patching.js';
import cr0Write from './cr0-write.js';
import cr4Write from './cr4-write.js';
import dynamicCode from './dynamic-code.js';
import dynamicRoutineLookup from './dynamic-routine-lookup.js';
import executeCacheType from './execute-cache-type.js';
import executeDefaultApi from './execute-default-api.js';
import executePageMapping from './execute-page-mapping.js';
import executePageProtection from './execute-page-protection.js';
import executePoolType from './execute-pool-type.js';
import executeWriteSection from './execute-write-section.js';
import iatInExecutableSection from './iat-in-executable-section.js';
import initSectionRwx from './init-section-rwx.js';
import msrWrite from './msr-write.js';
import packedSection from './packed-section.js';
import poolNxOptin from './pool-nx-optin.js';
import sectionAlignment from './section-alignment.js';
import selfModifyingCode from './self-modifying-code.js';
import straddlingRelocation from './straddling-relocation.js';
import { RULE_IDS, type RuleId } from './ids.js';
import type { Rule } from './types.js';
import vulnerableDriverBlocklist from './vulnerable-driver-blocklist.js';

/**
 * The registry: one line per rule, sorted by id. `satisfies Record<RuleId, Rule>` makes a rule
 * missing from it, or an id that is not in RULE_IDS, a compile error.
 */
const REGISTRY = {
  'code-patching': codePatching,
  'cr0-write': cr0Write,
  'cr4-write': cr4Write,
  'dynamic-code': dynamicCode,
  'dynamic-routine-lookup': dynamicRoutineLookup,
  'execute-cache-type': executeCacheType,
  'execute-default-api': executeDefaultApi,
  'execute-page-mapping': executePageMapping,
  'execute-page-protection': executePageProtection,
  'execute-pool-type': executePoolType,
  'execute-write-section': executeWriteSection,
  'iat-in-executable-section': iatInExecutableSection,
  'init-section-rwx': initSectionRwx,
  'msr-write': msrWrite,
  'packed-section': packedSection,
  'pool-nx-optin': poolNxOptin,
  'section-alignment': sectionAlignment,
  'self-modifying-code': selfModifyingCode,
  'straddling-relocation': straddlingRelocation,
  'vulnerable-driver-blocklist': vulnerableDriverBlocklist,
} as const satisfies Record<RuleId, Rule>;

/** Every rule, in RULE_IDS order. */
export const rules: readonly Rule[] = RULE_IDS.map((id) => REGISTRY[id]);

export function ruleById(id: RuleId): Rule {
  return REGISTRY[id];
}

/** The rule of an id typed by a user (`hvci rules <id>`, config files); undefined for an unknown one. */
export function findRule(id: string): Rule | undefined {
  return rules.find((r) => r.meta.id === id);
}

export * from './ids.js';
export * from './types.js';
export * from './target-os.js';
