/**
 * RuleTester: a rule's cases over real fixture binaries, in the manner of ESLint's tester and
 * BinSkim's Pass / Fail / NotApplicable folders.
 *
 *   valid          the rule applies and reports nothing
 *   invalid        the rule reports these findings (message id, arguments, place); `more: true`
 *                  when the binary holds other findings of the rule besides (call fixtures)
 *   notApplicable  the rule does not run, and the report says why (rulesNotApplied)
 *
 * Like ESLint's, it rejects a message id the rule does not have, duplicate cases and an empty
 * valid or invalid list; and it fails when the rule has a message id that no invalid case
 * produces, unless the cases name it in `unproduced` with the place that tests it instead. `caseProblems` and `findingProblems` are pure so test/rules/rule-tester.test.ts can
 * show each rejection.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze, type AnalyzeOptions } from '../../src/analyze.js';
import type { FileReport, Finding } from '../../src/report/model.js';
import { parseTargetOs } from '../../src/rules/target-os.js';
import type { Rule, Severity } from '../../src/rules/types.js';
import { repoRoot } from './paths.js';

/** One binary to analyse, with the options it is analysed with. */
export interface TestInput {
  /** Names the case in test output and tells duplicates apart. */
  name: string;
  bytes(): Uint8Array;
  options?: Omit<AnalyzeOptions, 'rules' | 'path'>;
}

/** A committed fixture, by its path under test/fixtures ("image/bin/wx_section.x64.mingw.sys"). */
export function bin(path: string, options: { targetOs?: string } = {}): TestInput {
  const targetOs = options.targetOs === undefined ? undefined : parseTargetOs(options.targetOs);
  if (options.targetOs !== undefined && !targetOs) throw new Error(`unknown target OS ${options.targetOs}`);
  return {
    name: options.targetOs ? `${path} (target ${options.targetOs})` : path,
    bytes: () => new Uint8Array(readFileSync(join(repoRoot, 'test', 'fixtures', path))),
    ...(targetOs ? { options: { targetOs } } : {}),
  };
}

/** Bytes made in the test (a fixture with one field changed, say); `name` must say what they are. */
export function built(name: string, bytes: () => Uint8Array, options?: TestInput['options']): TestInput {
  return { name, bytes, ...(options ? { options } : {}) };
}

export interface ExpectedFinding {
  messageId: string;
  /** Arguments that must be there with these values (a RegExp matches the text); others may be too. */
  args?: Record<string, string | number | RegExp>;
  rva?: number;
  section?: string;
  severity?: Severity;
}

export interface InvalidCase {
  input: TestInput;
  findings: ExpectedFinding[];
  /** Other findings of this rule may be reported besides the expected ones. */
  more?: boolean;
}

export interface NotApplicableCase {
  input: TestInput;
  /** The reason the report gives. */
  reason: RegExp;
}

export interface RuleCases {
  valid: TestInput[];
  invalid: InvalidCase[];
  notApplicable?: NotApplicableCase[];
  /** Message ids no committed fixture can produce, each with where it is tested instead (the corpus…). */
  unproduced?: Record<string, string>;
}

/** What is wrong with the cases themselves, before any binary is analysed. */
export function caseProblems(rule: Rule, cases: RuleCases): string[] {
  const problems: string[] = [];
  const messageIds = Object.keys(rule.meta.messages);
  if (cases.valid.length === 0) problems.push('no valid case');
  if (cases.invalid.length === 0) problems.push('no invalid case');
  const seen = new Map<string, string>();
  const note = (list: string, input: TestInput) => {
    const earlier = seen.get(input.name);
    if (earlier) problems.push(`duplicate case: ${input.name} (${earlier} and ${list})`);
    else seen.set(input.name, list);
  };
  for (const v of cases.valid) note('valid', v);
  for (const c of cases.invalid) note('invalid', c.input);
  for (const c of cases.notApplicable ?? []) note('notApplicable', c.input);
  const produced = new Set<string>();
  for (const c of cases.invalid) {
    if (c.findings.length === 0) problems.push(`invalid case ${c.input.name} expects no finding: make it a valid case`);
    for (const f of c.findings) {
      if (!messageIds.includes(f.messageId)) problems.push(`unknown message id "${f.messageId}" in ${c.input.name} (${rule.meta.id} has ${messageIds.join(', ')})`);
      produced.add(f.messageId);
    }
  }
  for (const id of Object.keys(cases.unproduced ?? {})) {
    if (!messageIds.includes(id)) problems.push(`unproduced lists "${id}", which is not a message id of ${rule.meta.id}`);
  }
  for (const id of messageIds) {
    if (!produced.has(id) && !(id in (cases.unproduced ?? {}))) problems.push(`message id "${id}" is produced by no invalid case`);
  }
  return problems;
}

/** How the rule's findings on one binary differ from an invalid case's expectations. */
export function findingProblems(expected: InvalidCase, actual: readonly Finding[]): string[] {
  const problems: string[] = [];
  const left = [...actual];
  for (const e of expected.findings) {
    const i = left.findIndex((f) => matches(e, f));
    if (i < 0) problems.push(`expected ${describeExpected(e)}; got ${actual.map(describeFinding).join(' | ') || 'no finding'}`);
    else left.splice(i, 1);
  }
  if (!expected.more && left.length > 0) problems.push(`unexpected findings: ${left.map(describeFinding).join(' | ')}`);
  return problems;
}

function matches(e: ExpectedFinding, f: Finding): boolean {
  if (f.messageId !== e.messageId) return false;
  if (e.rva !== undefined && f.rva !== e.rva) return false;
  if (e.section !== undefined && f.section !== e.section) return false;
  if (e.severity !== undefined && f.severity !== e.severity) return false;
  for (const [key, want] of Object.entries(e.args ?? {})) {
    const got = f.arguments[key];
    if (got === undefined) return false;
    if (want instanceof RegExp ? !want.test(String(got)) : got !== want) return false;
  }
  return true;
}

const describeExpected = (e: ExpectedFinding): string =>
  `${e.messageId}${e.rva !== undefined ? ` at 0x${e.rva.toString(16)}` : ''}${e.args ? ` ${JSON.stringify(e.args, (_, v: unknown) => (v instanceof RegExp ? String(v) : v))}` : ''}`;
const describeFinding = (f: Finding): string => `${f.messageId}${f.rva !== undefined ? ` at 0x${f.rva.toString(16)}` : ''}: ${f.message}`;

function run(rule: Rule, input: TestInput): FileReport {
  return analyze(input.bytes(), { ...input.options, path: input.name, sha256: '0'.repeat(64), rules: [rule] });
}

function notApplied(report: FileReport, rule: Rule): string | undefined {
  return report.rulesNotApplied?.find((n) => n.ruleId === rule.meta.id)?.reason;
}

/** Registers the rule's cases as tests (node:test). */
export function ruleTester(rule: Rule, cases: RuleCases): void {
  const id = rule.meta.id;
  describe(`${id}: RuleTester cases`, () => {
    it('has well-formed cases that produce every message id', () => {
      assert.deepEqual(caseProblems(rule, cases), []);
    });
    for (const input of cases.valid) {
      it(`valid: ${input.name}`, () => {
        const report = run(rule, input);
        assert.equal(report.status, 'analyzed', report.error);
        assert.equal(notApplied(report, rule), undefined, 'the rule applies');
        assert.deepEqual(report.findings.filter((f) => f.ruleId === id).map(describeFinding), []);
      });
    }
    for (const c of cases.invalid) {
      it(`invalid: ${c.input.name}`, () => {
        const report = run(rule, c.input);
        assert.equal(notApplied(report, rule), undefined, 'the rule applies');
        assert.deepEqual(findingProblems(c, report.findings.filter((f) => f.ruleId === id)), []);
      });
    }
    for (const c of cases.notApplicable ?? []) {
      it(`not applicable: ${c.input.name}`, () => {
        const report = run(rule, c.input);
        assert.equal(report.status, 'analyzed', report.error);
        const reason = notApplied(report, rule);
        assert.ok(reason !== undefined, `${id} is not in rulesNotApplied`);
        assert.match(reason, c.reason);
        assert.deepEqual(report.findings.filter((f) => f.ruleId === id), []);
      });
    }
  });
}

/** The ARM64 fixture driver with its COFF Machine field set to `machine`: code no decoder of hvci reads. */
export function withMachine(path: string, machine: number, name: string): TestInput {
  return built(`${path} with Machine = ${name}`, () => {
    const bytes = new Uint8Array(readFileSync(join(repoRoot, 'test', 'fixtures', path)));
    const peOffset = new DataView(bytes.buffer).getUint32(0x3c, true);
    new DataView(bytes.buffer).setUint16(peOffset + 4, machine, true);
    return bytes;
  });
}

/** Why a rule that reads code does not run on ARMNT code and on a user-mode DLL (src/rules/applicability.ts). */
export const codeRuleNotApplicable: NotApplicableCase[] = [
  { input: withMachine('arm64/bin/clean_driver.arm64.clang.sys', 0x01c4, 'ARMNT (0x01c4)'), reason: /^reads x86, x64 and ARM64 machine code; ARMNT code is not decoded$/ },
  { input: bin('image/bin/user_dll.x64.mingw.sys'), reason: /^not kernel-mode code \(dll: subsystem .*\); HVCI governs kernel code only$/ },
];

/** The x86-only instruction rules (CR0, CR4, MSR writes) also say why they do not run on ARM64 code. */
export const x86OnlyNotApplicable: NotApplicableCase[] = [
  ...codeRuleNotApplicable,
  { input: bin('arm64/bin/clean_driver.arm64.clang.sys'), reason: /^an x86\/x64 instruction \(CR0, CR4, MSR writes\); ARM64 code has no such instruction$/ },
];
