/**
 * hvci.config.json: parsing and validation (pure; the CLI reads the file). Unknown keys are
 * errors that name the key, so a typo never silently turns a setting off.
 */
import type { ErrorObject } from 'ajv';
import { RULE_IDS } from '../rules/ids.js';
import type { Config } from './schema.js';
// The schema compiled ahead of time by ajv (scripts/config-validator.ts): no ajv at run time.
import { validate } from './validate-config.generated.js';

export class ConfigError extends Error {}

/** The generated validator: true or false, with ajv's error objects on `errors` after a false. */
const validateConfig = validate as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Parses and validates a config; throws ConfigError with every problem, one per line. */
/** `knownRuleIds`: the rules a config may name (default: every rule id). */
export function parseConfig(text: string, source: string, knownRuleIds: readonly string[] = RULE_IDS): Config {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problems: string[] = [];
  if (!validateConfig(data)) problems.push(...new Set((validateConfig.errors ?? []).map((e) => describe(e))));
  const config = data as Config;
  if (problems.length === 0) {
    for (const id of Object.keys(config.rules ?? {})) {
      if (!knownRuleIds.includes(id)) problems.push(`unknown rule "${id}" in rules (rules: ${knownRuleIds.join(', ')})`);
    }
    for (const [i, s] of (config.suppressions ?? []).entries()) {
      if (s.ruleId !== '*' && !knownRuleIds.includes(s.ruleId)) problems.push(`unknown rule "${s.ruleId}" in suppressions[${i}]`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${source}: ${p}`).join('\n'));
  return config;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? 'top level' : e.instancePath;
  if (e.keyword === 'additionalProperties') return `unknown key "${String(e.params.additionalProperty)}" at ${at}`;
  if (e.keyword === 'required') return `missing "${String(e.params.missingProperty)}" at ${at}`;
  if (e.keyword === 'enum') return `${at} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  if (e.instancePath.endsWith('/reason')) return `${at}: a suppression needs a reason (non-empty text)`;
  return `${at} ${e.message ?? 'is invalid'}`;
}

/**
 * A glob as a RegExp over "/"-separated relative paths: "**" any directories, "*" and "?"
 * within one name. A pattern without "/" matches the file name in any directory.
 */
export function globToRegExp(glob: string): RegExp {
  const pattern = glob.includes('/') ? glob.replace(/^\.\//, '') : `**/${glob}`;
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function matchesAny(path: string, globs: readonly string[]): boolean {
  const p = path.replace(/\\/g, '/').replace(/^\.\//, '');
  return globs.some((g) => globToRegExp(g).test(p));
}
