/**
 * ARM64 function discovery (src/analysis/functions.ts, issue 14) on the ARM64 builds of the C
 * fixtures: every function llvm-readobj listed in .pdata at build time (ARM64-FACTS.tsv) is a
 * discovered function that starts there, packed and .xdata records alike; the lengths they give
 * keep functions apart (no two overlap) and inside an executable section; and every `bl` target
 * in the code is the start of a discovered function.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CodeModel } from '../../src/analysis/code-model.js';
import { isExecutable, parsePe } from '../../src/pe/index.js';
import { callFixtures } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';

const facts = readTsv(join(callFixtures, 'ARM64-FACTS.tsv'));

describe('ARM64 function discovery from .pdata and bl targets', () => {
  it('has facts for the ARM64 fixtures, packed and unpacked records among them', () => {
    assert.ok(facts.length >= 20);
    assert.ok(facts.some((f) => Number(f.packed) > 0) && facts.some((f) => Number(f.packed) < Number(f.functions)));
  });
  for (const fact of facts) {
    it(fact.file as string, () => {
      const parsed = parsePe(new Uint8Array(readFileSync(join(callFixtures, fact.file as string))));
      assert.ok(parsed.ok);
      const model = new CodeModel(parsed.image);
      const functions = model.functions.functions;
      const pdata = functions.filter((f) => f.source === 'pdata').map((f) => `0x${f.start.toString(16)}`).sort();
      assert.deepEqual(pdata, (fact.function_rvas as string).split(',').sort(), 'one function per .pdata entry');
      const ranges = functions.flatMap((f) => f.ranges).sort((a, b) => a.begin - b.begin);
      for (let i = 1; i < ranges.length; i++) assert.ok((ranges[i - 1] as { end: number }).end <= (ranges[i] as { begin: number }).begin, 'functions do not overlap');
      const code = parsed.image.sections.filter(isExecutable);
      for (const r of ranges) assert.ok(code.some((s) => r.begin >= s.virtualAddress && r.end <= s.virtualAddress + s.virtualSize), 'inside code');
      // Every bl in the code (A64: 100101 imm26) calls the start of a discovered function.
      for (const s of code) {
        for (let at = s.virtualAddress; at + 4 <= s.virtualAddress + s.virtualSize; at += 4) {
          const w = parsed.image.space.u32(at) as number;
          if ((w & 0xfc000000) >>> 0 !== 0x94000000) continue;
          const imm = w & 0x03ffffff;
          const target = at + (imm & 0x02000000 ? imm - 0x04000000 : imm) * 4;
          assert.ok(model.functions.at(target), `bl at 0x${at.toString(16)} calls 0x${target.toString(16)}, a discovered function`);
        }
      }
      model.reader.dispose();
    });
  }
});
