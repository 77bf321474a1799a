/**
 * COFF long section names ("/4", "/29") resolved through the string table (issue 10), against
 * llvm-readobj's names recorded in oracles/long-section-names.tsv (Wine and shim images of
 * ../shared/corpus, built by GNU ld, which keeps the string table).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/analyze.js';
import { displayName, parsePe } from '../../src/pe/index.js';
import { corpusDir, repoRoot } from '../helpers/paths.js';
import { corpusSkip } from '../helpers/corpus.js';
import { readTsv } from '../helpers/tsv.js';

const rows = readTsv(join(repoRoot, 'test', 'pe', 'oracles', 'long-section-names.tsv'));
const files = [...new Set(rows.map((r) => r.file as string))];
const stored = (hexBytes: string): string =>
  String.fromCharCode(...hexBytes.split(' ').map((h) => parseInt(h, 16)).filter((b) => b !== 0));

describe('COFF long section names', { skip: corpusSkip() }, () => {
  for (const file of files) {
    it(`${file}: stored names as the loader sees them, full names as llvm-readobj shows them`, () => {
      const bytes = new Uint8Array(readFileSync(join(corpusDir, file)));
      const parsed = parsePe(bytes);
      assert.ok(parsed.ok);
      const expected = rows.filter((r) => r.file === file);
      assert.ok(expected.some((r) => stored(r.stored as string).startsWith('/')), 'premise: the file has long names');
      assert.deepEqual(
        parsed.image.sections.map((s) => [s.index, s.name, displayName(s)]),
        expected.map((r) => [Number(r.index), stored(r.stored as string), r.name]),
      );
      // The JSON report's image facts carry the full name beside the stored one.
      const facts = analyze(bytes, { path: file }).image?.sections ?? [];
      for (const r of expected.filter((x) => stored(x.stored as string).startsWith('/'))) {
        assert.deepEqual(facts[Number(r.index)]?.longName, r.name);
      }
    });
  }
  it('a stripped image (no string table) keeps the stored name', () => {
    const bytes = new Uint8Array(readFileSync(join(corpusDir, 'wine/i386-windows/cng.sys')));
    const copy = bytes.slice();
    const dv = new DataView(copy.buffer);
    const fileHeader = dv.getUint32(0x3c, true) + 4;
    dv.setUint32(fileHeader + 8, 0, true); // PointerToSymbolTable = 0, as strip leaves it
    const parsed = parsePe(copy);
    assert.ok(parsed.ok);
    const s = parsed.image.sections.find((x) => x.name === '/4');
    assert.ok(s);
    assert.equal(s.longName, undefined);
    assert.equal(displayName(s), '/4');
  });
});
