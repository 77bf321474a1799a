/**
 * Issue 16, in process: every hostile input is analysed to a report (never an exception),
 * findings per rule are capped with a count of the rest, and work budgets turn into an
 * "incomplete analysis" entry instead of a hang or an out-of-memory crash.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze, MAX_CHECKED_CALLS, MAX_FINDINGS_PER_RULE } from '../../src/analyze.js';
import { codeModelOf } from '../../src/analysis/code-model.js';
import { authenticodeLayout } from '../../src/pe/authenticode.js';
import { parsePe } from '../../src/pe/index.js';
import { defineRule } from '../../src/rules/types.js';
import { imageFixtures } from '../helpers/paths.js';
import {
  callChain,
  hostileInputs,
  importsInCode,
  manyAllocatorCalls,
  manyBranches,
  manyStraddlingRelocations,
  manySweepFunctions,
  overlappingSections,
  pdataInZeroFill,
  relocationsInZeroFill,
} from './inputs.js';

describe('hostile inputs: each file becomes a report', () => {
  for (const h of hostileInputs.filter((x) => x.fast)) {
    it(`${h.name} (item ${h.item}: ${h.what})`, () => {
      const report = analyze(h.bytes(), { path: h.name });
      assert.equal(report.status, 'analyzed', report.error);
      const perRule = new Map<string, number>();
      for (const f of report.findings) perRule.set(f.ruleId, (perRule.get(f.ruleId) ?? 0) + 1);
      for (const [rule, n] of perRule) assert.ok(n <= MAX_FINDINGS_PER_RULE + 1, `${rule}: ${n} findings`);
      assert.ok((report.checkedCalls?.length ?? 0) <= MAX_CHECKED_CALLS);
    });
  }
});

describe('item 1: a function with thousands of branches', () => {
  it('the allocator call after 1,300 and 20,000 branches is still checked (no stack overflow)', () => {
    for (const n of [1300, 20_000]) {
      const report = analyze(manyBranches(n));
      const calls = report.checkedCalls ?? [];
      assert.equal(calls.length, 1, `${n} branches`);
      assert.equal(calls[0]?.api, 'ExAllocatePoolWithTag');
    }
  });
  it('a short chain of branches still resolves the pool type exactly (the bound costs no precision)', () => {
    const report = analyze(manyBranches(20));
    const call = report.checkedCalls?.[0];
    assert.equal(call?.verdict, 'executable', JSON.stringify(call));
    assert.match(call?.values.join() ?? '', /NonPagedPool\b/);
  });
});

describe('item 2: findings per rule are capped, the rest counted', () => {
  const report = analyze(manyStraddlingRelocations(100_000), { path: 'straddle' });
  const straddles = report.findings.filter((f) => f.ruleId === 'straddling-relocation');
  it('lists the first findings and one "more like this" finding for the other 699,900', () => {
    assert.equal(straddles.length, MAX_FINDINGS_PER_RULE + 1);
    const more = straddles.at(-1);
    assert.equal(more?.messageId, 'more-like-this');
    assert.equal(more?.evidence?.omitted, 7 * 100_000 - MAX_FINDINGS_PER_RULE);
    assert.match(more?.message ?? '', /699900 more findings/);
    assert.equal(more?.severity, 'error', 'the omitted findings are errors on win10-1507, so the summary is too');
  });
  it('the listed findings are the first ones, in address order', () => {
    const rvas = straddles.slice(0, -1).map((f) => f.rva as number);
    assert.deepEqual(rvas, [...rvas].sort((a, b) => a - b));
  });
  it('the capped report serialises to a small JSON text', () => {
    assert.ok(JSON.stringify(report).length < 1_000_000);
  });
});

describe('item 3: no quadratic work, bounded budgets', () => {
  it('131,072 allocator calls in one function: 2,000 checked calls listed, the rest counted', () => {
    const report = analyze(manyAllocatorCalls(131_072));
    assert.equal(report.checkedCalls?.length, MAX_CHECKED_CALLS);
    assert.equal(report.checkedCallsOmitted, 131_072 - MAX_CHECKED_CALLS);
  });
  it('a chain of call-next: discovery stops at its limit and the report says so', () => {
    const report = analyze(callChain(400_000));
    assert.equal(report.callSiteAnalysis, 'incomplete');
    assert.ok(report.incompleteAnalysis?.some((i) => i.part === 'function-discovery' && /stopped after/.test(i.reason)));
  });
  it('descent stops at its instruction limit inside one straight run of code (not only between runs)', () => {
    const report = analyze(callChain(400_000), { limits: { descentInstructions: 10_000 } });
    assert.ok(report.incompleteAnalysis?.some((i) => i.part === 'function-discovery' && /after 10,000 instructions/.test(i.reason)), JSON.stringify(report.incompleteAnalysis));
    const parsed = parsePe(callChain(400_000));
    assert.ok(parsed.ok);
    const model = codeModelOf(parsed.image, { descentInstructions: 10_000 });
    assert.ok(!('supported' in model));
    assert.ok(model.functions.functions.length > 0);
    assert.ok(model.budget.used.instructions <= 10_000, `${model.budget.used.instructions} instructions decoded`);
  });
  it('a decoded-instruction budget turns into "incomplete analysis" per rule, with the findings made before it', () => {
    const report = analyze(callChain(400_000), { limits: { instructions: 50_000 } });
    assert.equal(report.status, 'analyzed');
    assert.equal(report.callSiteAnalysis, 'incomplete');
    const rules = (report.incompleteAnalysis ?? []).filter((i) => i.part === 'rule');
    assert.ok(rules.length > 0);
    for (const r of rules) assert.match(r.reason, /decoded-instruction budget of 50,000 exhausted/);
  });
  it('a data-flow step budget does the same', () => {
    const report = analyze(manyAllocatorCalls(2000), { limits: { flowSteps: 100 } });
    assert.ok(report.incompleteAnalysis?.some((i) => /data-flow step budget of 100 exhausted/.test(i.reason)), JSON.stringify(report.incompleteAnalysis));
  });
  it('the same image without limits is complete (the budgets are what made it incomplete)', () => {
    const report = analyze(manyAllocatorCalls(2000));
    assert.equal(report.callSiteAnalysis, 'complete');
    assert.equal(report.incompleteAnalysis, undefined);
  });
});

describe('item 3: Authenticode hashing of overlapping sections is bounded', () => {
  it('20,000 sections each covering the file: hashed at most 4 times over, reported as irregular', () => {
    const bytes = overlappingSections(20_000);
    const parsed = parsePe(bytes);
    assert.ok(parsed.ok);
    const layout = authenticodeLayout(parsed.image);
    const hashed = layout.parts.reduce((n, p) => n + p.length, 0);
    assert.ok(hashed <= 5 * bytes.length, `${hashed} bytes hashed for a ${bytes.length}-byte file`);
    assert.ok(layout.irregularities.some((i) => /covers the file more than 4 times/.test(i)));
    assert.ok(layout.irregularities.length <= 17);
    assert.equal(analyze(bytes).status, 'analyzed');
  });
});

describe('item 3: import tables are bounded in all, not only per module', () => {
  it('4,096 descriptors naming one huge lookup table: at most 65,536 functions read, reported', () => {
    const report = analyze(importsInCode());
    assert.equal(report.status, 'analyzed');
    assert.ok(report.problems.some((p) => p.code === 'TOO_MANY_IMPORTS' && /more than 65536 imported functions in all/.test(p.message)), JSON.stringify(report.problems));
    assert.ok((report.image?.imports ?? []).reduce((n, m) => n + m.functions, 0) <= 65_536);
  });
});

describe('item 3: relocation blocks must be file bytes', () => {
  it('a 256 MiB block over zero fill is one problem, not 134 million entries', () => {
    const report = analyze(relocationsInZeroFill());
    assert.equal(report.status, 'analyzed');
    assert.ok(report.problems.some((p) => p.code === 'RELOCATION_BLOCK_MALFORMED' && /not wholly in the file/.test(p.message)), JSON.stringify(report.problems));
    assert.ok((report.image?.relocationCount ?? 0) < 1000);
  });
});

describe('analyze() never throws', () => {
  const good = new Uint8Array(readFileSync(join(imageFixtures, 'clean_driver.x64.mingw.sys')));
  const crashing = defineRule({
    // A stand-in for a broken rule: ids are typed, so it borrows a real one.
    meta: { id: 'execute-write-section', defaultSeverity: 'error', docs: { title: 't', description: 'd', resolution: 'r', ruleBook: '-' }, messages: { m: 'found {x}' } },
    check(_image, ctx) {
      ctx.report('m', { x: 1 });
      throw new RangeError('Maximum call stack size exceeded');
    },
  });
  it('a rule that fails keeps its earlier findings and is listed as incomplete; the other rules run', () => {
    const report = analyze(good, { rules: [crashing] });
    assert.equal(report.status, 'analyzed');
    assert.equal(report.findings.length, 1);
    assert.deepEqual(report.incompleteAnalysis?.map((i) => [i.part, i.ruleId]), [['rule', 'execute-write-section']]);
    assert.match(report.incompleteAnalysis?.[0]?.reason ?? '', /internal error.*Maximum call stack/);
  });
  it('a failure outside the rules is the file\'s one-line error', () => {
    const report = analyze(good, { rules: [crashing], targetOs: null as never });
    assert.equal(report.status, 'analyzed', 'a null option is tolerated where it is not used');
    const broken = analyze(good, { rules: 42 as never });
    assert.equal(broken.status, 'error');
    assert.equal(broken.errorCode, 'INTERNAL_ERROR');
    assert.ok(broken.error && !broken.error.includes('\n'));
  });
});

describe('quadratic work found by npm run fuzz', () => {
  it('20,000 unreached sweep functions: one reference scan for all of them, no finding from unreached code', () => {
    const report = analyze(manySweepFunctions(20_000), { path: 'sweep' });
    assert.equal(report.status, 'analyzed');
    assert.equal(report.incompleteAnalysis, undefined, JSON.stringify(report.incompleteAnalysis));
    assert.deepEqual(report.findings.filter((f) => f.ruleId === 'cr0-write'), []);
  });
  it('the same functions with .pdata entries are reached and reported (so the test above proves something)', () => {
    const report = analyze(manySweepFunctions(3, true), { path: 'reached' });
    assert.equal(report.findings.filter((f) => f.ruleId === 'cr0-write').length, 3);
  });
  it('an exception directory over 12 MiB of zero fill reads as no entries beyond the real one', () => {
    const report = analyze(pdataInZeroFill(), { path: 'pdata' });
    assert.equal(report.status, 'analyzed');
    assert.equal(report.incompleteAnalysis, undefined);
  });
});
