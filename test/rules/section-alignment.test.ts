import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, ruleTester } from '../helpers/rule-tester.js';
import { measured } from '../helpers/oracles.js';

describe('section-alignment', () => {
  fixtureCases('section-alignment', (file, findings) => {
    const facts = readobj(file);
    assert.notEqual(facts.sectionAlignment % 0x1000, 0, 'fixture really is under-aligned');
    const header = findings.filter((f) => f.messageId === 'header');
    assert.equal(header.length, 1);
    assert.equal(header[0]?.arguments.alignment, `0x${facts.sectionAlignment.toString(16).toUpperCase()}`);
    const unaligned = facts.sections.filter((s) => s.virtualAddress % 0x1000 !== 0);
    assert.deepEqual(
      findings.filter((f) => f.messageId === 'section').map((f) => [f.section, f.rva]),
      unaligned.map((s) => [s.name, s.virtualAddress]),
    );
    for (const f of findings) assert.equal(f.severity, 'error');
  });
});

// Valid and invalid cases; SectionAlignment as llvm-readobj measured it (FIXTURES.tsv).
ruleTester(ruleById('section-alignment'), {
  valid: [bin('image/bin/clean_driver.x64.mingw.sys'), bin('arm64/bin/clean_driver.arm64.clang.sys')],
  invalid: ['section_align_small.x64.mingw.sys', 'section_align_small.x86.clang.sys'].map((file) => ({
    input: bin(`image/bin/${file}`),
    // Every section of these images is off the page grid but the one at 0x1000 (x64 mingw: .idata).
    more: true,
    findings: [
      { messageId: 'header', args: { alignment: measured(file).section_alignment as string } },
      { messageId: 'section', section: '.text' },
    ],
  })),
});
