import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { readobj } from '../helpers/fixtures.js';
import { fixtureCases } from '../helpers/rule-cases.js';

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
