/**
 * Call-site analysis against the C fixtures: no finding the sources do not expect, call
 * sites equal to the objdump oracle (<binary>.calls.tsv), and the targeted strategy finding
 * exactly what decoding every function finds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { API_TABLE } from '../../src/analysis/api-table.js';
import { findImportCallSites } from '../../src/analysis/call-sites.js';
import { analyzeCalls } from '../../src/analysis/call-analysis.js';
import { CodeModel } from '../../src/analysis/code-model.js';
import { parsePe, type PeImage } from '../../src/pe/index.js';
import { callFixtures } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';
import { findingsOf, fixtureRows, groupByFile, hex } from './fixture-rows.js';

/** Class A and D APIs: the calls analyzeCalls checks (class N calls are execute-default-api notes, checked by FIXTURES.tsv rows). */
const TABLE = new Set(API_TABLE.filter((s) => s.cls !== 'N').map((s) => s.name));
/** objdump oracle forms that are calls (load-iat and thunk rows are not); jmp-reg: ARM64 `br xN` tail calls. */
const CALL_FORMS = new Set(['call-iat', 'call-reg', 'call-thunk', 'jmp-iat', 'jmp-reg']);

function image(file: string): PeImage {
  const parsed = parsePe(new Uint8Array(readFileSync(join(callFixtures, file))));
  assert.ok(parsed.ok);
  return parsed.image;
}

describe('call-site analysis on the C fixtures', () => {
  it('has expectation rows (the fixtures are committed)', () => assert.ok(fixtureRows.length > 100));
  for (const [file, rows] of groupByFile(fixtureRows)) {
    describe(file, () => {
      it('reports nothing the sources do not expect', () => {
        const expected = new Set(rows.filter((r) => !['nx', 'none', 'param'].includes(r.verdict as string)).map((r) => `${r.rule}@${r.call_rva}`));
        const extra = findingsOf(file)
          .filter((f) => f.ruleId !== 'pool-nx-optin')
          .filter((f) => !expected.has(`${f.ruleId}@${hex(f.rva)}`));
        assert.deepEqual(extra.map((f) => `${f.ruleId}@${hex(f.rva)}: ${f.message}`), []);
      });
      it('finds every call of a table API that objdump finds, and no other', () => {
        const oracle = readTsv(join(callFixtures, `${file}.calls.tsv`))
          .filter((r) => CALL_FORMS.has(r.form as string) && TABLE.has(r.api as string))
          .map((r) => `${r.call_rva} ${r.api} in ${r.function_rva}`)
          .sort();
        const analysis = analyzeCalls(image(file));
        assert.ok(analysis.supported);
        const mine = analysis.calls
          // The oracle tracks pointers within one symbol: cross-function forms are checked by FIXTURES.tsv rows.
          .filter((c) => c.form !== 'dynamic' && c.form !== 'global-pointer')
          .map((c) => `${hex(c.callRva)} ${c.api} in ${hex(c.functionRva)}`)
          .sort();
        assert.deepEqual(mine, oracle);
      });
      it('targeted and full strategies find the same call sites', () => {
        const img = image(file);
        const key = (s: { callRva: number; slot: { name: string }; form: string }) => `${hex(s.callRva)} ${s.slot.name} ${s.form}`;
        const a = new CodeModel(img);
        const b = new CodeModel(img);
        const targeted = findImportCallSites(a).map(key);
        const full = findImportCallSites(b, { strategy: 'full' }).map(key);
        a.reader.dispose();
        b.reader.dispose();
        assert.deepEqual(targeted, full);
      });
    });
  }
});
