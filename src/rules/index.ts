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
import type { Rule } from './types.js';
import vulnerableDriverBlocklist from './vulnerable-driver-blocklist.js';

/** The registry: one line per rule, sorted by id. */
export const rules: readonly Rule[] = [
  codePatching,
  cr0Write,
  cr4Write,
  dynamicCode,
  dynamicRoutineLookup,
  executeCacheType,
  executeDefaultApi,
  executePageMapping,
  executePageProtection,
  executePoolType,
  executeWriteSection,
  iatInExecutableSection,
  initSectionRwx,
  msrWrite,
  packedSection,
  poolNxOptin,
  sectionAlignment,
  selfModifyingCode,
  straddlingRelocation,
  vulnerableDriverBlocklist,
] as Rule[];

export function findRule(id: string): Rule | undefined {
  return rules.find((r) => r.meta.id === id);
}

export * from './types.js';
export * from './target-os.js';
