/**
 * Scans ../shared/corpus (real drivers nobody here wrote) with the real CLI and checks
 * every image fact in facts.tsv — measured independently with python3-pefile — against
 * our findings. Facts, not verdicts: the expectations below derive from the rule book's
 * definitions applied to those facts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import type { FileReport, Finding, ScanReport } from '../src/index.js';
import { runCli } from '../test/helpers/cli.js';
import { corpusDir, hasCorpus } from '../test/helpers/paths.js';
import { reportSchemaErrors } from '../test/helpers/schema.js';
import { readTsv } from '../test/helpers/tsv.js';

if (!hasCorpus) throw new Error(`corpus not found at ${corpusDir} (set HVCI_CORPUS)`);

const manifest = readTsv(join(corpusDir, 'MANIFEST.tsv'));
const facts = new Map(readTsv(join(corpusDir, 'facts.tsv')).map((r) => [r.path as string, r]));

/** pefile prints an empty section name as "(noname)". */
const factName = (name: string) => (name === '(noname)' ? '' : name);
const list = (cell: string | undefined) => (!cell || cell === '-' ? [] : cell.split(',').map(factName));
const sorted = (xs: string[]) => [...xs].sort();
const PEFILE_MACHINES: Record<string, string> = { x86: 'x86', x64: 'x64', arm64: 'arm64', arm: 'armnt' };

let report: ScanReport;
let byPath: Map<string, FileReport>;
let exitCode: number;

before(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'hvci-corpus-')), 'report.json');
  const r = runCli(['scan', '--format', 'json', '--output', out, corpusDir]);
  exitCode = r.status;
  assert.ok(!/internal error/.test(r.stderr), r.stderr);
  report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
  byPath = new Map(report.files.map((f) => [relative(corpusDir, f.path), f]));
});

describe('corpus scan as a whole', () => {
  it('exits with 1 (the corpus holds incompatible images), not a crash', () => {
    assert.equal(exitCode, 1);
  });
  it('validates against schema/report.schema.json', () => {
    assert.deepEqual(reportSchemaErrors(report), []);
  });
  it('gives every MANIFEST file a status, and nothing else', () => {
    assert.deepEqual(sorted([...byPath.keys()]), sorted(manifest.map((m) => m.path as string)));
    assert.equal(report.walkErrors.length, 0);
    // README.md, MANIFEST.tsv and facts.tsv are not PE files: skipped, not errors.
    assert.equal(report.summary.skipped, 3);
  });
});

describe('per-file facts (facts.tsv)', () => {
  for (const row of manifest) {
    const path = row.path as string;
    const fact = facts.get(path);
    it(path, () => {
      const file = byPath.get(path);
      assert.ok(file, 'missing from report');
      assert.ok(fact, 'missing from facts.tsv');
      if (row.machine === '?') {
        assert.equal(file.status, 'error', 'pefile could not parse it; we must report an error, not a verdict');
        assert.match(file.error ?? '', /e_lfanew/);
        return;
      }
      assert.equal(file.status, 'analyzed', file.error);
      assert.equal(file.machine, PEFILE_MACHINES[fact.machine as string] ?? fact.machine);
      assert.equal(file.format, fact.pe_format);
      checkSections(file, fact);
      checkAlignment(file, fact);
      checkIat(file, fact);
      checkRelocations(file, fact);
      checkImportsAndSignature(file, fact);
    });
  }
});

const of = (file: FileReport, ruleId: string, messageId?: string): Finding[] =>
  file.findings.filter((f) => f.ruleId === ruleId && (messageId === undefined || f.messageId === messageId));

function checkSections(file: FileReport, fact: Record<string, string>) {
  const wx = sorted(list(fact.wx_sections));
  const flagged = sorted([...of(file, 'execute-write-section'), ...of(file, 'init-section-rwx')].map((f) => f.section ?? '?'));
  assert.deepEqual(flagged, wx, 'W+X sections');
  for (const f of of(file, 'init-section-rwx')) assert.equal(f.severity, 'warning');
  for (const f of of(file, 'execute-write-section')) assert.equal(f.severity, 'error');
  // Every section pefile lists must appear with the same rights.
  const ours = new Map((file.image?.sections ?? []).map((s) => [s.name, s.rights.replaceAll(' ', '')]));
  for (const entry of (fact.sections ?? '').split(' ').filter(Boolean)) {
    const m = /^(.*):([R-][W-][X-]):va=(0x[0-9a-f]+):vs=(0x[0-9a-f]+)$/.exec(entry);
    assert.ok(m, `unparsed facts entry ${entry}`);
    assert.equal(ours.get(factName(m[1] as string)), m[2], `rights of section ${m[1]}`);
  }
}

function checkAlignment(file: FileReport, fact: Record<string, string>) {
  const alignment = Number(fact.section_alignment);
  const bad = alignment === 0 || alignment % 0x1000 !== 0;
  assert.equal(of(file, 'section-alignment', 'header').length, bad ? 1 : 0, `SectionAlignment ${fact.section_alignment}`);
  assert.deepEqual(
    sorted(of(file, 'section-alignment', 'section').map((f) => f.section ?? '?')),
    sorted(list(fact.sections_not_page_aligned)),
    'sections not page aligned',
  );
}

function checkIat(file: FileReport, fact: Record<string, string>) {
  const cell = fact.iat_in_exec_section ?? '';
  const dir12 = of(file, 'iat-in-executable-section', 'iat');
  const thunks = of(file, 'iat-in-executable-section', 'firstThunk');
  if (cell === 'yes') {
    assert.equal(dir12.length, 1, 'IAT (dir 12) in executable section');
    assert.equal(dir12[0]?.severity, 'error');
    assert.equal(dir12[0]?.section, factName((fact.iat_section ?? '').split(':')[0] as string));
  } else if (cell.startsWith('yes(FirstThunk')) {
    assert.equal(dir12.length, 0);
    assert.ok(thunks.length >= 1, 'FirstThunk fallback finding');
    for (const t of thunks) assert.equal(t.severity, 'warning');
  } else {
    assert.match(cell, /^no/);
    assert.equal(dir12.length + thunks.length, 0, 'no IAT finding expected');
  }
}

function checkRelocations(file: FileReport, fact: Record<string, string>) {
  assert.equal(of(file, 'straddling-relocation').length, Number(fact.relocs_straddling_page), 'straddling relocations');
}

/**
 * MANIFEST's kind is a curator's label; ours is derived from the image. Where they differ
 * for a reason, the reason is written here.
 */
const KIND_EXCEPTIONS: Record<string, string> = {
  'wine/i386-windows/cng.sys': 'Wine user-space build: imports only kernel32.dll, windows-cui subsystem',
  'wine/x86_64-windows/cng.sys': 'Wine user-space build: imports only kernel32.dll, windows-cui subsystem',
  'systeminformer/amd64/ksi.dll': 'kernel-mode DLL (imports ntoskrnl.exe): HVCI applies, so we call it a driver',
  'systeminformer/arm64/ksi.dll': 'kernel-mode DLL (imports ntoskrnl.exe)',
};

describe('one module, one kind on every machine (issue 10)', () => {
  // Wine's x86 ntoskrnl.exe imports hal.dll and its x86 hal.dll imports ntoskrnl.exe; the x64
  // builds import neither. All are Wine's user-mode stand-ins (windows-cui subsystem).
  for (const module of ['ntoskrnl.exe', 'hal.dll']) {
    it(`wine ${module}: the same kind, kernelMode and reason for i386, x86_64 (and aarch64)`, () => {
      const builds = ['i386-windows', 'x86_64-windows', 'aarch64-windows']
        .map((arch) => byPath.get(`wine/${arch}/${module}`))
        .filter((f): f is FileReport => f !== undefined);
      assert.ok(builds.length >= 2);
      for (const f of builds) {
        assert.equal(f.kind, 'dll', f.path);
        assert.equal(f.kernelMode, false, f.path);
      }
      // The builds that export the module's name say why, in the same words.
      const named = builds.filter((f) => /is the kernel module/.test(f.kindReason ?? ''));
      assert.ok(named.length >= 2, builds.map((f) => f.kindReason).join(' | '));
      for (const f of named) assert.match(f.kindReason ?? '', new RegExp(`^is the kernel module ${module.replace('.', '\\.')} itself \\(export name\\)`));
    });
  }
});

describe('image kind agrees with MANIFEST', () => {
  for (const row of manifest) {
    const path = row.path as string;
    if (row.kind === 'edge-case') continue;
    it(path, () => {
      const file = byPath.get(path) as FileReport;
      if (path in KIND_EXCEPTIONS) {
        assert.notEqual(file.kind, row.kind, `listed as an exception but agrees now: ${KIND_EXCEPTIONS[path]}`);
        return;
      }
      assert.equal(file.kind, row.kind);
      assert.equal(file.kernelMode, row.kind === 'driver');
    });
  }
});

function checkImportsAndSignature(file: FileReport, fact: Record<string, string>) {
  const dlls = sorted([...new Set((file.image?.imports ?? []).filter((m) => !m.delayLoaded).map((m) => m.dll.toLowerCase()))]);
  assert.deepEqual(dlls, sorted(list(fact.import_dlls).map((d) => d.toLowerCase())), 'imported DLLs');
  assert.equal(file.image?.relocationCount, Number(fact.relocs), 'base relocation fix-ups');
  assert.equal(file.image?.signed, fact.authenticode === 'yes', 'Authenticode directory');
  assert.equal(file.image?.linkerVersion, fact.linker, 'linker version');
}

describe('ARM64: the code is analysed like x86/x64 code (issue 14)', () => {
  it('every arm64 image is analysed: kernel-mode ones with callSiteAnalysis "complete", user-mode and EFI ones "not-run"', () => {
    const arm = report.files.filter((f) => f.machine === 'arm64');
    assert.ok(arm.length >= 5);
    for (const f of arm) {
      assert.equal(f.status, 'analyzed', f.path);
      assert.equal(f.callSiteAnalysis, f.kernelMode ? 'complete' : 'not-run', f.path);
    }
    assert.ok(arm.filter((f) => f.kernelMode).length >= 3);
  });
  it('a compatible arm64 driver reads plain "COMPATIBLE" in text and HTML: no "image checks only" qualifier (issue 10)', () => {
    const file = join(corpusDir, 'systeminformer', 'arm64', 'systeminformer.sys');
    const text = runCli(['scan', file]);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /^COMPATIBLE +\S*systeminformer\.sys/m);
    assert.doesNotMatch(text.stdout, /image (checks|rules) only/);
    const html = runCli(['scan', '--format', 'html', file]);
    assert.doesNotMatch(html.stdout, /call sites not analysed for ARM64/);
  });
});

describe('text report of the whole corpus', () => {
  it('renders (verbose) without an internal error', () => {
    const r = runCli(['scan', '--verbose', corpusDir]);
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.match(r.stdout, /files \(\d+ kernel-mode\)/);
  });
});
