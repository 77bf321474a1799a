/**
 * Values whose path decides them (issue 10), on test/fixtures/calls/src/flow.c and wrapper.c:
 * a choice made by a Windows-version test shows both values, a helper's return value is
 * followed (and a version check every Windows with Memory Integrity passes decides it), and a
 * finding reached through a wrapper names the wrapper and where it calls the API. Expected
 * values come from the sources' @expect lines and call RVAs from the objdump oracle
 * (FIXTURES.tsv), never from our output.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeCalls } from '../../src/analysis/call-analysis.js';
import { analyze } from '../../src/analyze.js';
import { parsePe } from '../../src/pe/index.js';
import { parseTargetOs } from '../../src/rules/target-os.js';
import { callFixtures } from '../helpers/paths.js';
import { callRules, findingsOf, fixtureRows, hex, symbols } from './fixture-rows.js';

/** flow.c's version_pool_type asks RtlIsNtDdiVersionAvailable(NTDDI_WIN8); NTDDI_WIN8 = 0x06020000 (sdkddkver.h). */
const NTDDI_WIN8 = '0x6020000';

const rowsOf = (fn: string) => fixtureRows.filter((r) => r.source === 'src/flow.c' && r.function === fn);
/** The hex number at the end of a symbolic value: "NonPagedPool (0x0)" → "0x0". */
const rawOf = (value: unknown): string | undefined => /\((0x[0-9a-f]+)\)$/.exec(String(value))?.[1];

function calls(file: string) {
  const parsed = parsePe(new Uint8Array(readFileSync(join(callFixtures, file))));
  assert.ok(parsed.ok);
  const analysis = analyzeCalls(parsed.image);
  assert.ok(analysis.supported);
  return analysis.calls;
}

describe('a pool type chosen by a Windows-version test (cmov, setcc, branches)', () => {
  const rows = [...rowsOf('choice_cmov_version'), ...rowsOf('choice_cmov_memory'), ...rowsOf('choice_setcc_version')];
  it('has rows for all seven builds (five x86/x64, two ARM64) of the three scenarios', () => assert.equal(rows.length, 21));
  for (const row of rows) {
    it(`${row.file} ${row.function}: a warning that shows ${row.value}`, () => {
      const here = findingsOf(row.file as string).filter((f) => f.ruleId === 'execute-pool-type' && hex(f.rva) === row.call_rva);
      assert.equal(here.length, 1);
      const f = here[0];
      assert.equal(f?.severity, 'warning', 'a version-gated choice is not an error');
      const all = (f?.evidence?.allValues ?? []) as Array<{ value: unknown; conditions?: unknown[] }>;
      assert.deepEqual(all.map((v) => rawOf(v.value)).sort(), (row.value as string).split('|').sort(), 'both values, each with its path');
      assert.ok(all.every((v) => (v.conditions ?? []).length > 0), 'each value names the test that chose it');
      // flow.c compares with NTDDI_WIN10 (0x0A000000, sdkddkver.h); the proof shows that compare and both sides.
      const choice = f?.evidence?.versionChoice as { version?: string; test?: { rva?: string } } | undefined;
      assert.equal(choice?.version, 'NTDDI 0xa000000', 'the evidence names the version test');
      const proof = ((f?.evidence?.instructions ?? []) as Array<{ rva: string }>).map((i) => i.rva);
      assert.ok(proof.includes(choice?.test?.rva as string), `the compare is in the proof: ${proof.join(' ')}`);
      for (const v of (row.value as string).split('|')) assert.ok(f?.message.includes(`(${v})`), `${v} in: ${f?.message}`);
    });
  }
});

describe("the return value of the driver's own helper", () => {
  for (const row of [...rowsOf('alloc_from_version_helper'), ...rowsOf('alloc_from_exec_helper'), ...rowsOf('alloc_from_nx_helper')]) {
    it(`${row.file} ${row.function}: ${row.value} → ${row.verdict}`, () => {
      const call = calls(row.file as string).find((c) => hex(c.callRva) === row.call_rva);
      assert.ok(call, `a checked call at ${row.call_rva}`);
      // Folded from the helper's ret paths (clang may fold a constant helper into the caller itself).
      assert.deepEqual([...new Set(call.values.map((v) => v.raw))].sort(), (row.value as string).split('|').sort());
      assert.equal(call.verdict, row.verdict === 'exec' ? 'executable' : 'compatible');
      if (row.function === 'alloc_from_version_helper') {
        const old = call.values.find((v) => v.raw === '0x0');
        const test = old?.conditions?.[0];
        assert.equal(test?.version, `RtlIsNtDdiVersionAvailable(${NTDDI_WIN8})`);
        assert.equal(test?.onHvci, false, 'NonPagedPool is returned only below Windows 8, where Memory Integrity does not exist');
        assert.equal(call.values.find((v) => v.raw === '0x200')?.conditions?.[0]?.onHvci, true);
      }
    });
  }
});

describe('a version check for a later Windows 10 release: the target OS decides', () => {
  // flow.c: RtlIsNtDdiVersionAvailable(NTDDI_WIN10_RS1 = 0x0A000002, Windows 10 1607, build 14393).
  const rows = rowsOf('alloc_from_rs1_helper');
  it('has rows for all seven builds (five x86/x64, two ARM64)', () => assert.equal(rows.length, 7));
  const at = (file: string, callRva: string, target: string) => {
    const bytes = new Uint8Array(readFileSync(join(callFixtures, file)));
    const targetOs = parseTargetOs(target);
    assert.ok(targetOs);
    return analyze(bytes, { path: file, sha256: '0'.repeat(64), rules: callRules, targetOs }).findings.filter(
      (f) => f.ruleId === 'execute-pool-type' && hex(f.rva) === callRva,
    );
  };
  for (const row of rows) {
    it(`${row.file}: an error for win10-1511, nothing for win10-1607`, () => {
      const older = at(row.file as string, row.call_rva as string, 'win10-1511');
      assert.deepEqual(older.map((f) => f.severity), ['error'], '1511 has Memory Integrity and takes the NonPagedPool side');
      assert.match(older[0]?.message ?? '', /before Windows 10 1607/);
      assert.deepEqual(at(row.file as string, row.call_rva as string, 'win10-1607').map((f) => f.message), [], 'every supported Windows returns TRUE');
    });
  }
});

describe('a finding reached through a wrapper names the wrapper and its API call', () => {
  const rows = fixtureRows.filter((r) => r.rule === 'execute-pool-type' && r.verdict === 'exec' && r.via !== '-' && r.via !== '*dynamic');
  it('has wrapper rows (wrapper.c)', () => assert.ok(rows.length >= 5));
  for (const row of rows) {
    it(`${row.file} ${row.function} → ${row.via}`, () => {
      const f = findingsOf(row.file as string).find((x) => x.ruleId === 'execute-pool-type' && hex(x.rva) === row.call_rva);
      assert.ok(f, `a finding at the call to ${row.via} (${row.call_rva})`);
      // Where the wrapper calls the API: the oracle row of the wrapper's own call.
      const inner = fixtureRows.find((r) => r.file === row.file && r.function === row.via && r.api === row.api && r.via === '-');
      const wrapperRva = symbols(row.file as string).get(inner?.symbol as string);
      assert.ok(inner && wrapperRva !== undefined);
      // Addresses print in upper case (pe's hex), the oracle's in lower case.
      assert.ok(f.message.toLowerCase().includes(`sub_${wrapperRva.toString(16)} (which calls ${(row.api as string).toLowerCase()} at ${inner.call_rva}) at ${row.call_rva}`), f.message);
    });
  }
});
