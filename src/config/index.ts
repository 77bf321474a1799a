export { ConfigError, globToRegExp, matchesAny, parseConfig } from './config.js';
export { CONFIG_SCHEMA, type Config, type RuleSetting, type Suppression } from './schema.js';
export { applyPolicy, applyPolicyToFile, type Baseline, baselineKey, parseBaseline, type PolicyOptions } from './policy.js';
