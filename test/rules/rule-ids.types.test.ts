/**
 * Rule ids are a type (src/rules/ids.ts): a misspelt or unimplemented id anywhere in src is a
 * compile error. Each `@ts-expect-error` below is checked by `npm run typecheck`: if the line
 * after it compiled, tsc would fail on the unused directive. The runtime test only keeps the
 * values honest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiSpec } from '../../src/analysis/api-table.js';
import type { Config } from '../../src/config/schema.js';
import type { Explanation } from '../../src/explain/explain.js';
import type { CheckedCallSummary, Finding } from '../../src/report/model.js';
import { RULE_IDS, type RuleId } from '../../src/rules/ids.js';
import { ruleById } from '../../src/rules/index.js';
import { defineRule, type Rule } from '../../src/rules/types.js';

// @ts-expect-error the rule book's unsupported-relocation-type is not implemented: not a RuleId
const unimplemented: RuleId = 'unsupported-relocation-type';

// @ts-expect-error a misspelt id in a registry lookup
const misspeltLookup = () => ruleById('execute-pool-typ');

const misspeltRuleMeta = () =>
  defineRule({
    meta: {
      // @ts-expect-error a rule's own id must be one of RULE_IDS
      id: 'cr0-writes',
      defaultSeverity: 'error',
      docs: { title: '', description: '', resolution: '', ruleBook: '' },
      messages: { m: '' },
    },
    check() {},
  });

const finding: Pick<Finding, 'ruleId'> = {
  // @ts-expect-error findings carry a RuleId
  ruleId: 'msr-wirte',
};

const checkedCall: Pick<CheckedCallSummary, 'ruleId'> = {
  // @ts-expect-error checked calls too
  ruleId: 'execute-pool',
};

const config: Config = {
  rules: {
    // @ts-expect-error a config's rule settings are keyed by RuleId
    'execute-page-protections': 'off',
  },
  // @ts-expect-error suppressions name a RuleId or "*"
  suppressions: [{ ruleId: 'straddling-relocations', reason: 'r' }],
};

const explanation: Pick<Explanation, 'ruleIds'> = {
  // @ts-expect-error explain names RuleIds
  ruleIds: ['unsupported-relocation-type'],
};

const apiEntry: Pick<ApiSpec, 'rule'> = {
  // @ts-expect-error the API table drives only the call-site rules
  rule: 'cr0-write',
};

// @ts-expect-error an exhaustive map keyed by RuleId misses no rule
const incomplete = { 'cr0-write': 1 } satisfies Record<RuleId, number>;

describe('rule id types', () => {
  it('RULE_IDS is the registry, in order', () => {
    assert.deepEqual(
      RULE_IDS.map((id) => (ruleById(id) as Rule).meta.id),
      [...RULE_IDS],
    );
    // The values above exist only for the type checker.
    assert.ok([unimplemented, misspeltLookup, misspeltRuleMeta, finding, checkedCall, config, explanation, apiEntry, incomplete].length > 0);
  });
});
