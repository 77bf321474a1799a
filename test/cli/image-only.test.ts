/** --image-only: the image checks alone, no code decoded — the same image findings, no call-site ones. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rules } from '../../src/rules/index.js';
import type { FileReport } from '../../src/report/model.js';
import { runCli } from '../helpers/cli.js';
import { callFixtures, imageFixtures } from '../helpers/paths.js';

const CODE_RULES = new Set(rules.filter((r) => r.meta.requiresCode).map((r) => r.meta.id));
const POOL = join(callFixtures, 'pool.x64.mingw-O2.sys');
const WX = join(imageFixtures, 'wx_section.x64.mingw.sys');

function scan(...args: string[]): FileReport[] {
  const r = runCli(['scan', '-f', 'json', '--fail-on', 'none', ...args, POOL, WX]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).files as FileReport[];
}

describe('--image-only', () => {
  const full = scan('--jobs', '1');
  it('the full scan finds the executable pool (or this test proves nothing)', () => {
    assert.ok(full[0]?.findings.some((f) => f.ruleId === 'execute-pool-type'));
    assert.equal(full[0]?.callSiteAnalysis, 'complete');
  });
  for (const jobs of ['1', '2']) {
    it(`--jobs ${jobs}: no call-site finding, "not-run", and exactly the full scan's image findings`, () => {
      const quick = scan('--image-only', '--jobs', jobs);
      for (const [i, file] of quick.entries()) {
        assert.equal(file.callSiteAnalysis, 'not-run');
        assert.equal(file.checkedCalls, undefined);
        assert.deepEqual(file.findings.filter((f) => CODE_RULES.has(f.ruleId)), []);
        const imageFindings = (full[i] as FileReport).findings.filter((f) => !CODE_RULES.has(f.ruleId));
        assert.deepEqual(file.findings, imageFindings);
      }
      assert.ok(quick[1]?.findings.some((f) => f.ruleId === 'execute-write-section'));
    });
  }
  it('the text report says the call sites were not analysed', () => {
    const r = runCli(['scan', '--image-only', '--fail-on', 'none', POOL]);
    assert.match(r.stdout, /image rules only — call sites were not analysed/);
  });
});
