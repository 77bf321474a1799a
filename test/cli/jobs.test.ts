/** --jobs N: worker threads give the same report, in the same order, as one thread. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { callFixtures, imageFixtures } from '../helpers/paths.js';

describe('--jobs', () => {
  it('--jobs 3 writes byte for byte the JSON report of --jobs 1 (files in input order)', () => {
    const one = runCli(['scan', '-f', 'json', '--jobs', '1', imageFixtures, callFixtures]);
    const three = runCli(['scan', '-f', 'json', '--jobs', '3', imageFixtures, callFixtures]);
    assert.equal(one.status, 1, one.stderr);
    assert.equal(three.status, one.status, three.stderr);
    assert.equal(three.stderr, one.stderr);
    assert.ok(JSON.parse(one.stdout).files.length > 100);
    assert.equal(three.stdout, one.stdout);
  });
  it('text output is the same too', () => {
    const one = runCli(['scan', '--jobs', '1', imageFixtures]);
    const two = runCli(['scan', '--jobs', '2', imageFixtures]);
    assert.equal(two.stdout, one.stdout);
  });
  it('0, -1 and "many" are usage errors', () => {
    for (const bad of ['0', '-1', 'many']) assert.equal(runCli(['scan', '--jobs', bad, imageFixtures]).status, 2, bad);
  });
});
