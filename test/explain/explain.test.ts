/**
 * Forms with no real sample (see docs/explain.md): the message formats are the rule book's
 * (§5, from Microsoft's documentation and format strings), not invented output.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { explain } from '../../src/explain/index.js';
import { rules } from '../../src/rules/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { spawnSync } from 'node:child_process';

describe('bug check 0xC4 as numbers', () => {
  it('"c4 2000 …" and the BugCheck line decode like !analyze', () => {
    for (const text of ['c4 2000 fffff802da2d33e8 0 484d454d', '0xC4 0x2000 0xfffff802`da2d33e8 0x0 0x484d454d', 'BugCheck C4, {2000, fffff802da2d33e8, 0, 484d454d}']) {
      const [e] = explain(text);
      assert.equal(e?.kind, 'bugcheck-c4', text);
      assert.deepEqual(e.ruleIds, ['execute-pool-type']);
      assert.equal(e.callerAddress, '0xFFFFF802DA2D33E8');
    }
  });
  it('0x2001 decodes the protection and names the NX twin', () => {
    const [e] = explain('c4 2001 fffff8094b9852f0 40 0');
    assert.deepEqual(e?.ruleIds, ['execute-page-protection']);
    assert.match(e?.values[2]?.meaning ?? '', /PAGE_EXECUTE_READWRITE \(0x40\): executable/);
    assert.match(e?.fix ?? '', /PAGE_READWRITE \(0x4\)/);
  });
  it('0x2002 says MdlMappingNoExecute is missing', () => {
    const [e] = explain('c4 2002 fffff8094b9852f0 10 0');
    assert.deepEqual(e?.ruleIds, ['execute-page-mapping']);
    assert.match(e?.values[2]?.meaning ?? '', /NormalPagePriority \(0x10\): MdlMappingNoExecute missing/);
    assert.match(e?.fix ?? '', /NormalPagePriority \| MdlMappingNoExecute \(0x40000010\)/);
  });
  it('0x2003–0x2006 map to the image rules', () => {
    assert.deepEqual(explain('c4 2003 1 2 3')[0]?.ruleIds, ['execute-write-section']);
    assert.deepEqual(explain('c4 2004 1 2 3')[0]?.ruleIds, ['section-alignment']);
    // Not unsupported-relocation-type: the rule book names it, but hvci has no such rule (issue 10).
    assert.deepEqual(explain('c4 2005 1 2 3')[0]?.ruleIds, ['iat-in-executable-section', 'straddling-relocation']);
    assert.deepEqual(explain('c4 2006 1 2 3')[0]?.ruleIds, ['iat-in-executable-section']);
  });
});

describe('Driver Verifier code-integrity messages (rule book §5 formats)', () => {
  const banner = (msg: string) =>
    `*********** Verifier Detected a Code Integrity Issue ************\n**\n** ${msg}\n**\n*****************************************************************`;
  it('executable page protection 0x40 = PAGE_EXECUTE_READWRITE', () => {
    const [e] = explain(banner('The caller 0xFFFFF8094B9852F0 specified an executable page protection 0x40.'));
    assert.equal(e?.kind, 'verifier-message');
    assert.deepEqual(e.ruleIds, ['execute-page-protection']);
    assert.equal(e.values[0]?.meaning, 'PAGE_EXECUTE_READWRITE');
    assert.match(e.fix, /PAGE_READWRITE \(0x4\)/);
    assert.equal(e.notes, undefined);
  });
  it('pool type with tag, MDL mapping, W+X section, alignment, IAT', () => {
    const pool = explain(banner('The caller 0xFFFFF8094B9852F0 specified an executable pool type 0x0 (tag 0x484d454d).'))[0];
    assert.deepEqual(pool?.ruleIds, ['execute-pool-type']);
    assert.equal(pool?.values[1]?.meaning, "'MEMH'");
    assert.deepEqual(explain(banner('The caller 0xFFFFF8094B9852F0 specified an executable MDL mapping (priority 0x10).'))[0]?.ruleIds, ['execute-page-mapping']);
    const wx = explain(banner('The image \\SystemRoot\\System32\\drivers\\DvCi.sys contains an executable and writable section 0xFFFFF80A1C2D0208 (name .rwx).'))[0];
    assert.deepEqual(wx?.ruleIds, ['execute-write-section']);
    assert.equal(wx?.sectionName, '.rwx');
    assert.deepEqual(explain(banner('The image x.sys contains section 0xFFFF0000 that is not page aligned (name .text).'))[0]?.ruleIds, ['section-alignment']);
    assert.deepEqual(explain(banner('The image x.sys contains an IAT, 0xFFFF0000 in executable section (name .text).'))[0]?.ruleIds, ['iat-in-executable-section']);
  });
});

describe('verifier /query counters and hvciscan (documented shapes only)', () => {
  it('non-zero counters map to rules', () => {
    const [e] = explain('ExecutePoolTypes: 0x2\nExecutePageProtections: 0x0\nIATInExecutableSection: 1');
    assert.equal(e?.kind, 'verifier-counters');
    assert.deepEqual(e.ruleIds, ['execute-pool-type', 'iat-in-executable-section']);
  });
  it('hvciscan pass line', () => {
    const [e] = explain('VbsGetIssues: 0x00000000\nVbsIsRecommended: 1\nHVCI incompatible driver scan start\nHVCI incompatible driver scan passed');
    assert.equal(e?.kind, 'hvciscan');
    assert.match(e.title, /no HVCI-incompatible driver/);
  });
});


describe('hvci explain (CLI)', () => {
  const sample = resolve(repoRoot, '..', 'shared', 'data', 'windows-outputs', 'bugcheck-c4', '01-intel-haxm-116-c4-2000.txt');
  it('reads stdin, explains, exits 0', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'explain'], {
      cwd: repoRoot,
      input: readFileSync(sample, 'utf8'),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /parameter 1 = 0x2000/);
    assert.match(r.stdout, /hvci rules: execute-pool-type/);
    assert.match(r.stdout, /Fix: Pass NonPagedPoolNx \(0x200\)/);
  });
  it('exits 1 when nothing is recognised, 2 on a bad --base', () => {
    assert.equal(runCli(['explain', 'hello', 'world']).status, 1);
    assert.equal(runCli(['explain', '--base', 'xyz', 'c4', '2000']).status, 2);
  });
  it('with --driver and --base points at the function and the call site', () => {
    const driver = 'test/fixtures/fingerprint/bin/base.x64.mingw.sys';
    // The ExAllocatePoolWithTag call is at RVA 0x1011 (6 bytes): the caller address is its return address.
    const r = runCli(['explain', '--format', 'json', '--driver', driver, '--base', 'fffff802da2d0000', 'c4', '2000', 'fffff802da2d1017', '0', '70467648']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { driver: Array<{ rva: string; function: string; callSite: { rva: string; text: string }; findings: Array<{ ruleId: string }> }> };
    const d = out.driver[0];
    assert.equal(d?.rva, '0x1017');
    assert.equal(d?.callSite.rva, '0x1011');
    assert.match(d?.callSite.text ?? '', /^call /);
    assert.match(d?.function ?? '', /^sub_1000$/);
    assert.deepEqual(d?.findings.map((f) => f.ruleId), ['execute-pool-type']);
  });
  it('with --driver but no base matches by page offset', () => {
    const r = runCli(['explain', '--driver', 'test/fixtures/fingerprint/bin/base.x64.mingw.sys', 'c4 2000 fffff802abcd5017 0 0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /error execute-pool-type: ExAllocatePoolWithTag/);
    assert.match(r.stdout, /Matched by page offset 0x17/);
  });
});

describe('explain names only rules that exist (issue 10)', () => {
  const registry = new Set<string>(rules.map((r) => r.meta.id));
  const inputs = [
    ...[0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006].flatMap((c) => [`0xC4 0x${c.toString(16)}`, `c4 ${c.toString(16)} fffff80000001000 1 2`]),
    'The image \\SystemRoot\\x.sys contains straddled relocs 0xFFFFF80000001000 in reloc section 0xFFFFF80000002000.',
    'The image \\SystemRoot\\x.sys contains unsupported relocs 0xFFFFF80000001000 in reloc section 0xFFFFF80000002000.',
    'Execute Pool Types: 1\nExecute Page Protections: 1\nExecute Page Mappings: 1\nExecute-Write Sections: 1\nSection Alignment Failures: 1\nUnsupported Relocs: 1\nIAT In Executable Section: 1',
    "Code Integrity determined that a process (\\Device\\x) attempted to load \\x.sys that didn't meet the hypervisor-protected code integrity (HVCI) policy. Event ID 3111",
  ];
  const samples = join(repoRoot, '..', 'shared', 'data', 'windows-outputs');
  let sampleTexts: string[] = [];
  try {
    sampleTexts = readdirSync(samples, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), 'latin1'));
  } catch {
    // no shared data beside the checkout: the inputs above still run
  }
  it('every rule id an explanation names is in the registry', () => {
    const named = new Set<string>();
    for (const text of [...inputs, ...sampleTexts]) for (const e of explain(text)) for (const id of e.ruleIds) named.add(id);
    assert.ok(named.size >= 6, [...named].join(' '));
    assert.deepEqual([...named].filter((id) => !registry.has(id)), []);
  });
  it('the rendered "Rule pages" line never points at a missing rule (c4 2005, unsupported relocs)', () => {
    for (const args of [['c4', '2005', '1', '2', '3'], ['Unsupported Relocs: 2']]) {
      const r = runCli(['explain', ...args]);
      for (const m of r.stdout.matchAll(/hvci rules ([a-z0-9-]+)/g)) assert.ok(registry.has(m[1] as string), `${m[1]} in: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /unsupported-relocation-type/);
    }
  });
  it('"0xC4 0x2000" alone says the check happens at the call, not when the image loads', () => {
    const [e] = explain('0xC4 0x2000');
    assert.equal(e?.kind, 'bugcheck-c4');
    assert.match(e?.meaning ?? '', /at run time, when the driver calls the API: Arg2 is the address in the driver code that requested it, Arg3 the pool type, Arg4 the pool tag/);
    assert.doesNotMatch(e?.meaning ?? '', /image loads|image name|section name/);
  });
});
