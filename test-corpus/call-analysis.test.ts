/**
 * Call-site analysis runs to the end on every x86/x64 file of ../shared/corpus, and says
 * "unsupported" (without throwing) for the other machines.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeCalls } from '../src/analysis/call-analysis.js';
import { parsePe } from '../src/pe/index.js';
import { corpusDir, hasCorpus } from '../test/helpers/paths.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : e.isFile() && !/\.(tsv|md)$/.test(e.name) ? [p] : [];
  });
}

describe('call-site analysis on the corpus', { skip: hasCorpus ? false : 'no corpus' }, () => {
  it('completes on every file without throwing', () => {
    let analysed = 0;
    for (const file of listFiles(corpusDir)) {
      const parsed = parsePe(new Uint8Array(readFileSync(file)));
      if (!parsed.ok) continue;
      const result = analyzeCalls(parsed.image);
      const x86 = parsed.image.machine === 0x14c || parsed.image.machine === 0x8664;
      assert.equal(result.supported, x86, file);
      if (result.supported) analysed++;
    }
    assert.ok(analysed > 50, `${analysed} x86/x64 files analysed`);
  });
});
