/**
 * Call-site analysis runs to the end on every x86/x64/ARM64 file of ../shared/corpus (user-mode
 * and EFI images too: the decoder must survive any code), and says "unsupported" (without
 * throwing) for the other machines.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { API_TABLE } from '../src/analysis/api-table.js';
import { analyzeCalls } from '../src/analysis/call-analysis.js';
import { analyze } from '../src/analyze.js';
import { parsePe } from '../src/pe/index.js';
import { findRule, type Rule } from '../src/rules/index.js';
import { corpusDir } from '../test/helpers/paths.js';
import { corpusSkip } from '../test/helpers/corpus.js';
import { readTsv } from '../test/helpers/tsv.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : e.isFile() && !/\.(tsv|md)$/.test(e.name) ? [p] : [];
  });
}

describe('call-site analysis on the corpus', { skip: corpusSkip() }, () => {
  it('completes on every file without throwing', () => {
    let analysed = 0;
    for (const file of listFiles(corpusDir)) {
      const parsed = parsePe(new Uint8Array(readFileSync(file)));
      if (!parsed.ok) continue;
      const result = analyzeCalls(parsed.image);
      const decoded = parsed.image.machine === 0x14c || parsed.image.machine === 0x8664 || parsed.image.machine === 0xaa64;
      assert.equal(result.supported, decoded, file);
      if (result.supported) analysed++;
    }
    assert.ok(analysed > 50, `${analysed} x86/x64/ARM64 files analysed`);
  });
});

/**
 * The speakeasy WDM test drivers call ExAllocatePoolWithTag eight times each. The pool
 * type at each call was read by hand from `objdump -d -M intel` (binutils), e.g. x64
 * 0x69C3 `mov ecx,0x1`, 0x7558 `mov ecx,0x200`; 0x6D12 reaches its call from the branch
 * after `mov ecx,r9d` with r9d = 1 (0x6C42); x86 pushes `0x1` or `0x200` as the last
 * argument before each `call ds:[ExAllocatePoolWithTag]`.
 */
const SPEAKEASY_POOL_TYPES: Record<string, Array<[number, number]>> = {
  'speakeasy/wdm_test_x64.sys': [
    [0x69c3, 1], [0x6a8d, 1], [0x6cb2, 1], [0x6d12, 1], [0x726a, 1], [0x7558, 0x200], [0x75c7, 0x200], [0x78e1, 1],
  ],
  'speakeasy/wdm_test_x86.sys': [
    [0x47ce, 1], [0x485f, 1], [0x4a34, 1], [0x4a9f, 1], [0x4f4a, 1], [0x516c, 0x200], [0x51c3, 0x200], [0x540a, 1],
  ],
};

describe('speakeasy ExAllocatePoolWithTag sites get the verdicts their pool types imply', { skip: corpusSkip() }, () => {
  for (const [path, sites] of Object.entries(SPEAKEASY_POOL_TYPES)) {
    it(path, () => {
      const parsed = parsePe(new Uint8Array(readFileSync(join(corpusDir, path))));
      assert.ok(parsed.ok);
      const result = analyzeCalls(parsed.image);
      assert.ok(result.supported);
      const calls = result.calls.filter((c) => c.api === 'ExAllocatePoolWithTag');
      assert.deepEqual(calls.map((c) => c.callRva).sort((a, b) => a - b), sites.map(([rva]) => rva));
      for (const [rva, poolType] of sites) {
        const call = calls.find((c) => c.callRva === rva)!;
        // PagedPool (1) and NonPagedPoolNx (0x200) are both non-executable (rule book execPool).
        const executable = (poolType & 1) === 0 && (poolType & 0x200) === 0;
        assert.equal(call.verdict, executable ? 'executable' : 'compatible', `0x${rva.toString(16)}`);
        assert.deepEqual(call.values.map((v) => Number(v.raw)), [poolType], `0x${rva.toString(16)}`);
      }
    });
  }
});

/**
 * execute-default-api (class N): every x86/x64 corpus driver whose facts.tsv import list
 * (measured independently) names a class-N API gets a note for it.
 */
describe('execute-default-api notes the class-N APIs facts.tsv says a driver imports', { skip: corpusSkip() }, () => {
  const classN = new Set(API_TABLE.filter((s) => s.cls === 'N').map((s) => s.name));
  const rule = findRule('execute-default-api') as Rule;
  const rows = readTsv(join(corpusDir, 'facts.tsv')).filter(
    (r) => /^x(86|64)$/.test(r.machine as string) && (r.kernel_pool_mdl_imports ?? '').split(',').some((n) => classN.has(n)),
  );
  it('has such drivers', () => assert.ok(rows.length > 0));
  for (const row of rows) {
    it(row.path as string, () => {
      const expected = (row.kernel_pool_mdl_imports as string).split(',').filter((n) => classN.has(n));
      const report = analyze(new Uint8Array(readFileSync(join(corpusDir, row.path as string))), { path: row.path as string, sha256: row.sha256 as string, rules: [rule] });
      const noted = new Set(report.findings.map((f) => f.evidence?.api as string));
      for (const api of expected) assert.ok(noted.has(api), `${api} noted`);
      assert.ok(report.findings.every((f) => f.severity === 'note'));
    });
  }
});

/**
 * No driver of the corpus generates or patches code (they are open-source or test drivers
 * whose sources show no JIT or self-patching), so these heuristics must stay quiet on them.
 * winpmem calls function pointers it keeps inside an allocated struct: data, not code.
 */
describe('dynamic-code, self-modifying-code and code-patching stay quiet on the corpus drivers', { skip: corpusSkip() }, () => {
  const quiet = ['dynamic-code', 'self-modifying-code', 'code-patching'].map((id) => findRule(id) as Rule);
  it('reports nothing on any x86/x64 .sys', () => {
    const drivers = listFiles(corpusDir).filter((f) => f.endsWith('.sys'));
    let checked = 0;
    for (const file of drivers) {
      const report = analyze(new Uint8Array(readFileSync(file)), { path: file, sha256: '0'.repeat(64), rules: quiet });
      if (report.callSiteAnalysis !== 'complete') continue;
      checked++;
      assert.deepEqual(
        report.findings.map((f) => f.message),
        [],
        file,
      );
    }
    assert.ok(checked > 30, `${checked} drivers checked`);
  });
});
