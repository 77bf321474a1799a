/**
 * The RuleTester's own checks: it must reject what is wrong with the cases (an unknown
 * message id, a message id no case produces, duplicate cases, empty lists) and with the
 * findings (a missing one, an extra one), or a rule's cases would prove less than they say.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../../src/report/model.js';
import { defineRule } from '../../src/rules/types.js';
import { built, caseProblems, findingProblems, type RuleCases } from '../helpers/rule-tester.js';

const rule = defineRule({
  meta: {
    id: 'section-alignment',
    defaultSeverity: 'error',
    docs: { title: 'a rule for the tester', description: 'only its message ids matter here', resolution: 'none', ruleBook: '-' },
    messages: { first: 'first {x}', second: 'second {x}' },
  },
  check() {},
});

const input = (name: string) => built(name, () => new Uint8Array());
const finding = (messageId: string, x: string, rva?: number): Finding => ({
  ruleId: 'section-alignment',
  severity: 'error',
  message: `${messageId} ${x}`,
  messageId,
  arguments: { x },
  ...(rva !== undefined ? { rva } : {}),
  fix: 'none',
  docs: '',
});

const good: RuleCases = {
  valid: [input('quiet')],
  invalid: [
    { input: input('one'), findings: [{ messageId: 'first' }] },
    { input: input('two'), findings: [{ messageId: 'second', args: { x: 'b' } }] },
  ],
};

describe('RuleTester', () => {
  it('accepts cases that produce every message id', () => {
    assert.deepEqual(caseProblems(rule, good), []);
  });
  it('rejects a message id the rule does not have', () => {
    const cases: RuleCases = { ...good, invalid: [...good.invalid, { input: input('typo'), findings: [{ messageId: 'frist' }] }] };
    assert.deepEqual(caseProblems(rule, cases), ['unknown message id "frist" in typo (section-alignment has first, second)']);
  });
  it('fails when a message id is produced by no invalid case', () => {
    const cases: RuleCases = { ...good, invalid: [good.invalid[0] as RuleCases['invalid'][number]] };
    assert.deepEqual(caseProblems(rule, cases), ['message id "second" is produced by no invalid case']);
  });
  it('accepts an unproduced message id only when the cases say why', () => {
    const cases: RuleCases = { ...good, invalid: [good.invalid[0] as RuleCases['invalid'][number]], unproduced: { second: 'needs a signed driver: test-corpus/x.test.ts' } };
    assert.deepEqual(caseProblems(rule, cases), []);
    assert.deepEqual(caseProblems(rule, { ...cases, unproduced: { third: 'no such message' } }), [
      'unproduced lists "third", which is not a message id of section-alignment',
      'message id "second" is produced by no invalid case',
    ]);
  });
  it('rejects duplicate cases, within a list and across lists', () => {
    const cases: RuleCases = { ...good, valid: [input('quiet'), input('quiet'), input('one')] };
    assert.deepEqual(caseProblems(rule, cases), ['duplicate case: quiet (valid and valid)', 'duplicate case: one (valid and invalid)']);
  });
  it('rejects an empty valid or invalid list, and an invalid case that expects nothing', () => {
    assert.deepEqual(caseProblems(rule, { valid: [], invalid: [] }), [
      'no valid case',
      'no invalid case',
      'message id "first" is produced by no invalid case',
      'message id "second" is produced by no invalid case',
    ]);
    const empty: RuleCases = { ...good, invalid: [...good.invalid, { input: input('nothing'), findings: [] }] };
    assert.deepEqual(caseProblems(rule, empty), ['invalid case nothing expects no finding: make it a valid case']);
  });
  it('matches findings by message id, arguments and place; reports the missing and the extra', () => {
    const expected = { input: input('one'), findings: [{ messageId: 'first', args: { x: /^a/ }, rva: 0x10 }] };
    assert.deepEqual(findingProblems(expected, [finding('first', 'abc', 0x10)]), []);
    // Each mismatch: the expected finding is missing, and the one reported is unexpected.
    for (const [wrong, what] of [[finding('first', 'abc', 0x20), 'RVA'], [finding('first', 'xyz', 0x10), 'argument'], [finding('second', 'abc', 0x10), 'message id']] as const) {
      const problems = findingProblems(expected, [wrong]);
      assert.equal(problems.length, 2, what);
      assert.match(problems[0] as string, /^expected first at 0x10/, what);
      assert.match(problems[1] as string, /^unexpected findings/, what);
    }
    assert.match(findingProblems(expected, [finding('first', 'abc', 0x10), finding('second', 'b')]).join(), /unexpected findings: second/);
    assert.deepEqual(findingProblems({ ...expected, more: true }, [finding('first', 'abc', 0x10), finding('second', 'b')]), [], 'more: true allows others');
  });
});
