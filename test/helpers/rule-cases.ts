import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Finding } from '../../src/index.js';
import { analyzeFixture, casesFor } from './fixtures.js';

/**
 * The shared shape of a rule test: fixtures built to trip the rule must (for x64 and x86),
 * every other fixture must not. `check` compares each finding with independent facts.
 */
export function fixtureCases(
  ruleId: string,
  check: (file: string, findings: Finding[]) => void,
): void {
  const { trips, twins } = casesFor(ruleId);
  it('has tripping fixtures for x64 and x86, and twins', () => {
    assert.ok(trips.some((f) => f.includes('.x64.')), 'no x64 fixture trips it');
    assert.ok(trips.some((f) => f.includes('.x86.')), 'no x86 fixture trips it');
    assert.ok(twins.length > 0);
  });
  for (const file of trips) {
    it(`trips on ${file}`, () => {
      const findings = analyzeFixture(file).findings.filter((f) => f.ruleId === ruleId);
      assert.ok(findings.length > 0, 'no finding');
      for (const f of findings) {
        assert.ok(f.message.length > 20 && f.fix.length > 10, 'message and fix are present');
      }
      check(file, findings);
    });
  }
  for (const file of twins) {
    it(`stays quiet on ${file}`, () => {
      assert.deepEqual(
        analyzeFixture(file).findings.filter((f) => f.ruleId === ruleId),
        [],
      );
    });
  }
}
