/**
 * Tests over ../shared/corpus skip when it is missing on a developer's machine, but fail under
 * CI (CI=true) or HVCI_REQUIRE_CORPUS=1: a CI run without the corpus must not pass by skipping.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { corpusDir, hasCorpus } from './paths.js';

export const corpusRequired = process.env.CI === 'true' || process.env.HVCI_REQUIRE_CORPUS === '1';

let failureRegistered = false;

/**
 * The `skip` option of a describe/it over the corpus: false when the corpus is there, else the
 * reason to skip; when the corpus is required, a failing test says it is missing (once per file).
 */
export function corpusSkip(): string | false {
  if (hasCorpus) return false;
  if (corpusRequired && !failureRegistered) {
    failureRegistered = true;
    it('the corpus is present (required under CI and HVCI_REQUIRE_CORPUS=1)', () => {
      assert.fail(`corpus not found at ${corpusDir} (set HVCI_CORPUS, or unset CI / HVCI_REQUIRE_CORPUS to skip the corpus tests)`);
    });
  }
  return `no corpus at ${corpusDir}`;
}
