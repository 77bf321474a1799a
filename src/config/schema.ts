/**
 * The schema of hvci.config.json (JSON Schema draft-07). `npm run docs` writes it to
 * schema/config.schema.json for editors; the CLI validates every config against it.
 */
import type { RuleId } from '../rules/ids.js';

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://hvci.invalid/schema/config.schema.json',
  title: 'hvci configuration (hvci.config.json)',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema, for editors.' },
    targetOs: {
      type: 'string',
      description: 'Oldest Windows the drivers must support (as --target-os): win10-1507, win10-1703, win11, server2019, a build number…',
    },
    failOn: { enum: ['error', 'warning', 'none'], description: 'Lowest severity that makes the exit code 1 (as --fail-on).' },
    rules: {
      type: 'object',
      description: 'Severity per rule id: error, warning, note, or off (not reported at all).',
      additionalProperties: { enum: ['error', 'warning', 'note', 'off'] },
    },
    ignore: {
      type: 'array',
      description: 'Globs of files not to scan, relative to the current directory ("**" any directories, "*" within a name; a pattern without "/" matches the file name anywhere).',
      items: { type: 'string', minLength: 1 },
    },
    suppressions: {
      type: 'array',
      description: 'Findings that are known and accepted. Each needs a reason; it is shown in the reports.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['ruleId', 'reason'],
        properties: {
          ruleId: { type: 'string', minLength: 1, description: 'The rule id, or "*" for any rule.' },
          path: { type: 'string', minLength: 1, description: 'Glob of the files it applies to (default: all).' },
          fingerprint: { type: 'string', pattern: '^v[0-9]+:[0-9a-f]{32}(:[0-9]+)?$', description: 'Only this finding (the `fingerprint` of the JSON report).' },
          reason: { type: 'string', minLength: 1, pattern: '\\S', description: 'Why this is acceptable (required).' },
        },
      },
    },
  },
} as const;

export type RuleSetting = 'error' | 'warning' | 'note' | 'off';

export interface Suppression {
  /** A rule id, or "*" for any rule (parseConfig rejects other strings). */
  ruleId: RuleId | '*';
  path?: string;
  fingerprint?: string;
  reason: string;
}

export interface Config {
  $schema?: string;
  targetOs?: string;
  failOn?: 'error' | 'warning' | 'none';
  rules?: Partial<Record<RuleId, RuleSetting>>;
  ignore?: string[];
  suppressions?: Suppression[];
}
