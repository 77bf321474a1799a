/** The short, fixed-seed fuzz run CI makes on every submission (npm run fuzz for long runs). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFuzz } from './fuzz.js';
import { runPdbFuzz } from './pdb-fuzz.js';

// Seeds up to 512 KiB: the large hostile inputs take seconds each and have tests of their
// own (test/hostile); npm run fuzz mutates them too.
describe('fuzz (seed 1, 250 mutated inputs from fixtures, corpus and small hostile inputs)', () => {
  const result = runFuzz({ count: 250, seed: 1, timeLimitMs: 10_000, maxSeedBytes: 512 * 1024 });
  it('tried every input', () => assert.equal(result.inputs, 250));
  it('0 uncaught exceptions', () => assert.deepEqual(result.uncaught, []));
  it('0 internal errors', () => assert.deepEqual(result.internalErrors, []));
  it('0 reports invalid against the schema', () => assert.deepEqual(result.invalidReports, []));
  it('0 inputs over the per-file time limit', () => assert.deepEqual(result.overLimit, []));
  it('the mutations reach the analysers, not only the header checks', () => {
    assert.ok(result.analyzed > 100, `${result.analyzed} analysed`);
    assert.ok(result.rejected > 5, `${result.rejected} rejected`);
  });
});

describe('HVCI_FUZZ_SHARD: N shards run exactly the inputs of one run', () => {
  it('shards 1/3, 2/3 and 3/3 of 12 inputs are the 12 inputs of the unsharded run, each once', () => {
    const names = (shard?: { index: number; count: number }) => {
      const seen: string[] = [];
      runFuzz({ count: 12, seed: 7, timeLimitMs: 10_000, maxSeedBytes: 8 * 1024, ...(shard ? { shard } : {}), onInput: (input) => seen.push(input) });
      return seen;
    };
    const all = names();
    assert.equal(all.length, 12);
    const sharded = [1, 2, 3].flatMap((index) => names({ index, count: 3 }));
    assert.deepEqual([...sharded].sort(), [...all].sort());
  });
});

describe('PDB fuzz (seed 1, 200 mutated fixture PDBs, each with its driver)', () => {
  const result = runPdbFuzz({ count: 200, seed: 1, timeLimitMs: 10_000 });
  it('0 uncaught exceptions, internal errors, invalid reports or slow inputs', () => assert.deepEqual(result.failures, []));
  it('the mutations reach past the container: some PDBs are still used, some refused', () => {
    assert.ok(result.used > 10, `${result.used} used`);
    assert.ok(result.ignored > 10, `${result.ignored} ignored`);
  });
});
