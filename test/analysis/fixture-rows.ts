/**
 * Shared by test/rules/<call-site rule>.test.ts and test/analysis/*.test.ts: runs the
 * call-site rules on the C fixtures in test/fixtures/calls and checks each expectation row
 * of FIXTURES.tsv. Expected call RVAs and functions come from the oracle files built from
 * the sources with objdump/nm (FIXTURES.tsv, <binary>.syms.tsv), never from our output.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apiSpec } from '../../src/analysis/api-table.js';
import { analyze } from '../../src/analyze.js';
import type { Finding } from '../../src/report/model.js';
import { findRule } from '../../src/rules/index.js';
import type { Rule } from '../../src/rules/types.js';
import { callFixtures } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';

export const CALL_RULES = [
  'code-patching',
  'cr0-write',
  'cr4-write',
  'dynamic-code',
  'dynamic-routine-lookup',
  'execute-cache-type',
  'execute-default-api',
  'execute-page-mapping',
  'execute-page-protection',
  'execute-pool-type',
  'msr-write',
  'self-modifying-code',
];
/** Rule book §8 severities of the instruction rules (`flag` rows), written out from the rule book. */
const HEURISTIC_SEVERITY: Record<string, string> = {
  'cr0-write': 'error',
  'cr4-write': 'warning',
  'msr-write': 'warning',
  'self-modifying-code': 'error',
  'dynamic-code': 'error',
  'code-patching': 'error',
};

export const callRules = CALL_RULES.map((id) => findRule(id)).filter((r): r is Rule => r !== undefined);


const fixturesTsv = join(callFixtures, 'FIXTURES.tsv');
export type Row = Record<string, string>;
/** Every FIXTURES.tsv row, ARM64 builds included. */
export const allFixtureRows: Row[] = existsSync(fixturesTsv) ? readTsv(fixturesTsv) : [];
/** FIXTURES.tsv rows whose binary exists (rows marked n/a: the scenario does not exist for that build). */
export const fixtureRows: Row[] = allFixtureRows.filter(
  (r) => r.verdict !== 'n/a' && r.call_rva !== '-' && existsSync(join(callFixtures, r.file as string)),
);
export const hex = (n: number | undefined): string => (n === undefined ? '-' : `0x${n.toString(16)}`);

const reports = new Map<string, Finding[]>();
export function findingsOf(file: string): Finding[] {
  let f = reports.get(file);
  if (!f) {
    const bytes = new Uint8Array(readFileSync(join(callFixtures, file)));
    f = analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: callRules }).findings;
    reports.set(file, f);
  }
  return f;
}

export function symbols(file: string): Map<string, number> {
  return new Map(readTsv(join(callFixtures, `${file}.syms.tsv`)).map((r) => [r.name as string, Number(r.rva)]));
}

/** Function start recorded in a finding's evidence (the function of the reported call). */
function functionRvaOf(f: Finding): number | undefined {
  const e = f.evidence ?? {};
  const v = e.functionRva as string | undefined;
  return v === undefined ? undefined : Number(v);
}

export function groupByFile(rows: readonly Row[]): Map<string, Row[]> {
  const byFile = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byFile.get(r.file as string) ?? [];
    list.push(r);
    byFile.set(r.file as string, list);
  }
  return byFile;
}

/** One test per expectation row of `ruleId`. */
export function checkFixtureRows(ruleId: string): void {
  const rows = fixtureRows.filter((r) => r.rule === ruleId);
  describe(`${ruleId} on the C fixtures`, () => {
    // The fixtures are committed: no rows means a broken build or table, not a skip.
    it('has expectation rows in FIXTURES.tsv', () => assert.ok(rows.length > 0, `no FIXTURES.tsv rows for ${ruleId}`));
    for (const [file, list] of groupByFile(rows)) {
      describe(file, () => {
        for (const row of list) checkRow(file, row);
      });
    }
  });
}

function checkRow(file: string, row: Row): void {
  const callRva = Number(row.call_rva);
  it(`${row.function} ${row.api} @${row.call_rva} → ${row.verdict}`, () => {
    const fnRva = symbols(file).get(row.symbol as string);
    assert.equal(hex(fnRva), row.function_rva, 'oracle: syms.tsv and FIXTURES.tsv agree on the function');
    const here = findingsOf(file).filter((f) => f.ruleId === row.rule && f.rva === callRva);
    const got = JSON.stringify(here.map((f) => f.message));
    switch (row.verdict) {
      case 'exec':
      case 'flag':
        assert.equal(here.length, 1, `one ${row.rule} finding at ${row.call_rva}; got ${got}`);
        // The rule book (§9) makes class-D calls whose executability is unconfirmed warnings, and
        // the §8 heuristics other than cr0-write warnings.
        assert.equal(
          here[0]?.severity,
          row.verdict === 'flag' ? HEURISTIC_SEVERITY[row.rule as string] : apiSpec(row.api as string)?.always === 'warning' ? 'warning' : 'error',
        );
        assert.equal(hex(functionRvaOf(here[0] as Finding)), hex(fnRva), 'reported in the function that makes the call');
        break;
      case 'unresolved':
        assert.equal(here.length, 1, `one warning at ${row.call_rva}; got ${got}`);
        assert.equal(here[0]?.severity, 'warning');
        assert.equal(here[0]?.evidence?.context, undefined, 'an unresolved value, not a downgraded one');
        break;
      case 'warn': {
        // Executable, but a context argument (user-mode target, custom allocator) makes it a warning.
        assert.equal(here.length, 1, `one warning at ${row.call_rva}; got ${got}`);
        assert.equal(here[0]?.severity, 'warning');
        const context = here[0]?.evidence?.context as { effect?: string } | undefined;
        assert.equal(context?.effect, 'downgrade', 'evidence says which argument downgraded it');
        assert.equal(hex(functionRvaOf(here[0] as Finding)), hex(fnRva), 'reported in the function that makes the call');
        break;
      }
      case 'note':
        assert.equal(here.length, 1, `one note at ${row.call_rva}; got ${got}`);
        assert.equal(here[0]?.severity, 'note');
        break;
      case 'nx':
      case 'none':
      case 'param':
        assert.deepEqual(here.map((f) => f.message), [], 'no finding at this call');
        break;
      default:
        assert.fail(`unknown verdict ${row.verdict}`);
    }
  });
}
