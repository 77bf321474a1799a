/**
 * ARM64 and amd64 builds of the same sources in ../shared/corpus (issue 14): System Informer
 * ships both (systeminformer/{amd64,arm64}/systeminformer.sys and ksi.dll, one commit, MSVC
 * 2022); Wine's aarch64 and x86_64 builds in the corpus are not pairs with code. What the two
 * builds import must agree but for the differences listed below, each read with
 * `llvm-readobj --coff-imports` and explained, and so must the findings by rule and API.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../src/analyze.js';
import type { Finding } from '../src/report/model.js';
import { parsePe, type PeImage } from '../src/pe/index.js';
import { CALL_RULES } from '../test/analysis/fixture-rows.js';
import { corpusSkip } from '../test/helpers/corpus.js';
import { corpusDir } from '../test/helpers/paths.js';

const PAIRS = ['systeminformer/{arch}/systeminformer.sys', 'systeminformer/{arch}/ksi.dll'];

interface ImportDifference {
  /** "dll!name" only the amd64 build imports, or "-". */
  amd64: string;
  /** "dll!name" only the arm64 build imports, or "-". */
  arm64: string;
  why: string;
}
/** Every import that differs between the two builds (llvm-readobj --coff-imports on each). */
const IMPORT_DIFFERENCES: Record<string, ImportDifference[]> = {
  'systeminformer/{arch}/systeminformer.sys': [
    { amd64: 'ntoskrnl.exe!KeGetCurrentIrql', arm64: 'hal.dll!KeGetCurrentIrql', why: 'the IRQL routines come from hal.dll on ARM64, from ntoskrnl.exe on x64' },
    { amd64: 'ntoskrnl.exe!KfRaiseIrql', arm64: 'hal.dll!KfRaiseIrql', why: 'the IRQL routines come from hal.dll on ARM64, from ntoskrnl.exe on x64' },
    { amd64: 'ntoskrnl.exe!KeLowerIrql', arm64: 'hal.dll!KfLowerIrql', why: 'KeLowerIrql is hal.dll\'s KfLowerIrql on ARM64' },
    { amd64: '-', arm64: 'ntoskrnl.exe!KeGetCurrentThread', why: 'x64 reads the current thread inline (gs-relative); the ARM64 build calls the export' },
  ],
  'systeminformer/{arch}/ksi.dll': [],
};

/**
 * Findings (by rule and API) that differ between the builds, and why: the compiler made
 * different code of the same sources (each read in `llvm-objdump -d` of both builds). What the
 * amd64 builds report: systeminformer.sys dynamic-routine-lookup ×1, execute-default-api
 * MmMapViewInSystemSpace ×2 and MmCopyMemory ×1, pool-nx-optin ×1; ksi.dll
 * dynamic-routine-lookup ×1.
 */
const FINDING_DIFFERENCES: Record<string, Array<{ amd64: string; arm64: string; why: string }>> = {
  'systeminformer/{arch}/systeminformer.sys': [
    {
      amd64: 'pool-nx-optin -',
      arm64: '-',
      why:
        'the amd64 build opts in at run time (after RtlGetVersion, `mov dword ptr [ExDefaultNonPagedPoolType], 0x200` and ' +
        '0x40000000 into ExDefaultMdlProtection) and passes those globals; the ARM64 build has no such stores: it passes ' +
        'NonPagedPoolNx (0x200) and MdlMappingNoExecute | NormalPagePriority (0x40000010) as constants at each call',
    },
  ],
  'systeminformer/{arch}/ksi.dll': [
    {
      amd64: 'dynamic-routine-lookup -',
      arm64: '-',
      why:
        'amd64 keeps a helper (sub_1000) that looks up a name it is passed, which the analysis cannot name; the ARM64 ' +
        'build inlines it into DllInitialize, where all four names are read from the stack UNICODE_STRINGs ' +
        '(NtQuerySystemInformation, MmProtectDriverSection, KeRemoveQueueApc, ZwCreateProcessEx: none an API of the table)',
    },
  ],
};

function image(path: string): PeImage {
  const parsed = parsePe(new Uint8Array(readFileSync(join(corpusDir, path))));
  assert.ok(parsed.ok, path);
  return parsed.image;
}
const importsOf = (img: PeImage): string[] =>
  img.allImports.flatMap((m) => m.functions.map((f) => `${m.dll.toLowerCase()}!${f.name ?? `#${f.ordinal}`}`)).sort();
/** a minus b, as multisets */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const left = [...b];
  return a.filter((x) => {
    const i = left.indexOf(x);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}
const findingKey = (f: Finding): string => `${f.ruleId} ${(f.evidence as { api?: string } | undefined)?.api ?? '-'}`;
const IMAGE_RULE = (f: Finding): boolean => !CALL_RULES.includes(f.ruleId) && f.ruleId !== 'pool-nx-optin';

describe('ARM64 and amd64 builds of the same sources (System Informer)', { skip: corpusSkip() }, () => {
  for (const pair of PAIRS) {
    const amd64Path = pair.replace('{arch}', 'amd64');
    const arm64Path = pair.replace('{arch}', 'arm64');
    describe(pair, () => {
      it('is an amd64 and an ARM64 image', () => {
        assert.equal(image(amd64Path).machine, 0x8664);
        assert.equal(image(arm64Path).machine, 0xaa64);
      });
      it('imports the same APIs but for the listed differences', () => {
        const a = importsOf(image(amd64Path));
        const b = importsOf(image(arm64Path));
        const want = IMPORT_DIFFERENCES[pair] ?? [];
        assert.ok(a.length > 10, `${a.length} imports`);
        assert.deepEqual(minus(a, b).sort(), want.map((d) => d.amd64).filter((x) => x !== '-').sort(), 'only in the amd64 build');
        assert.deepEqual(minus(b, a).sort(), want.map((d) => d.arm64).filter((x) => x !== '-').sort(), 'only in the ARM64 build');
      });
      it('gets the same image-rule findings', () => {
        const a = analyze(new Uint8Array(readFileSync(join(corpusDir, amd64Path))), { path: amd64Path }).findings.filter(IMAGE_RULE);
        const b = analyze(new Uint8Array(readFileSync(join(corpusDir, arm64Path))), { path: arm64Path }).findings.filter(IMAGE_RULE);
        assert.deepEqual(b.map(findingKey).sort(), a.map(findingKey).sort());
      });
      it(
        'gets the same call-site findings by rule and API but for the listed differences',
        () => {
          const a = analyze(new Uint8Array(readFileSync(join(corpusDir, amd64Path))), { path: amd64Path }).findings.map(findingKey);
          const b = analyze(new Uint8Array(readFileSync(join(corpusDir, arm64Path))), { path: arm64Path }).findings.map(findingKey);
          const want = FINDING_DIFFERENCES[pair] ?? [];
          assert.ok(a.length > 0, 'the amd64 build has findings to compare');
          assert.deepEqual(minus(a, b).sort(), want.map((d) => d.amd64).filter((x) => x !== '-').sort(), 'only in the amd64 build');
          assert.deepEqual(minus(b, a).sort(), want.map((d) => d.arm64).filter((x) => x !== '-').sort(), 'only in the ARM64 build');
        },
      );
    });
  }
});
