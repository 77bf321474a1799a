/**
 * Facts about the committed fixtures from the tools that built them (objdump, nm, llvm-readobj),
 * never from hvci: where a call or an instruction is, for RuleTester cases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callFixtures, imageFixtures, repoRoot } from './paths.js';
import { readTsv } from './tsv.js';

const callRows = readTsv(join(callFixtures, 'FIXTURES.tsv'));

/** The RVA of the call (or flagged instruction) `fn` makes in a calls fixture, for `rule`, from FIXTURES.tsv. */
export function oracleCallRva(file: string, fn: string, rule: string): number {
  const rows = callRows.filter((r) => r.file === file && r.function === fn && r.rule === rule && r.call_rva !== '-');
  if (rows.length !== 1) throw new Error(`FIXTURES.tsv: ${rows.length} rows for ${file} ${fn} ${rule}`);
  return Number(rows[0]?.call_rva);
}

/** Rows of a precision fixture's oracle (<file>.tsv: kind, then values) of one kind. */
export function precisionOracle(file: string, kind: string): string[][] {
  const text = readFileSync(join(repoRoot, 'test', 'fixtures', 'precision', 'bin', file.replace(/\.sys$/, '.tsv')), 'utf8');
  return text.split('\n').map((line) => line.split('\t')).filter((cells) => cells[0] === kind).map((cells) => cells.slice(1));
}

/** An image fixture's `measured` facts (FIXTURES.tsv, by llvm-readobj) as key=value pairs. */
export function measured(file: string): Record<string, string> {
  const row = readTsv(join(imageFixtures, 'FIXTURES.tsv')).find((r) => r.file === file);
  if (!row) throw new Error(`no FIXTURES.tsv row for ${file}`);
  return Object.fromEntries((row.measured ?? '').split('; ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}
