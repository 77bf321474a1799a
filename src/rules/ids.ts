/**
 * Every rule id, as a type: code that names a rule outside its own module (explain, config
 * defaults, docs) uses RuleId, so a misspelt or unimplemented id (the rule book's
 * `unsupported-relocation-type`, say) is a compile error. test/rules/registry.test.ts keeps
 * this list equal to the registry.
 */
export const RULE_IDS = [
  'code-patching',
  'cr0-write',
  'cr4-write',
  'dynamic-code',
  'dynamic-routine-lookup',
  'execute-cache-type',
  'execute-default-api',
  'execute-page-mapping',
  'execute-page-protection',
  'execute-pool-type',
  'execute-write-section',
  'iat-in-executable-section',
  'init-section-rwx',
  'msr-write',
  'packed-section',
  'pool-nx-optin',
  'section-alignment',
  'self-modifying-code',
  'straddling-relocation',
  'vulnerable-driver-blocklist',
] as const;

export type RuleId = (typeof RULE_IDS)[number];
