import { checkFixtureRows } from '../analysis/fixture-rows.js';

// Every expectation row of test/fixtures/calls/bin/FIXTURES.tsv for this rule.
checkFixtureRows('code-patching');
