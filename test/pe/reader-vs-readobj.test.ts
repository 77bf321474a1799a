/** Our reader against llvm-readobj's view of every fixture (recorded at build time). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DirectoryIndex, parsePe } from '../../src/pe/index.js';
import { fixtureBytes, imageFixtureTable, readobj } from '../helpers/fixtures.js';

const TYPE_NAMES: Record<number, string> = { 0: 'ABSOLUTE', 3: 'HIGHLOW', 10: 'DIR64' };

describe('PE reader agrees with llvm-readobj', () => {
  for (const row of imageFixtureTable) {
    const file = row.file as string;
    it(file, () => {
      const r = parsePe(fixtureBytes(file));
      assert.ok(r.ok);
      const image = r.image;
      const facts = readobj(file);
      assert.deepEqual(image.issues, []);
      assert.equal(image.optionalHeader.sectionAlignment, facts.sectionAlignment);
      assert.deepEqual(
        image.sections.map((s) => [s.name, s.virtualAddress, s.virtualSize, s.characteristics]),
        facts.sections.map((s) => [s.name, s.virtualAddress, s.virtualSize, s.characteristics]),
      );
      const iat = image.dataDirectories[DirectoryIndex.iat];
      assert.equal(iat?.virtualAddress, facts.iatRva);
      assert.equal(iat?.size, facts.iatSize);
      assert.deepEqual(
        image.imports.map((m) => ({ dll: m.dll, iatRva: m.iatRva, symbols: m.functions.map((f) => f.name) })),
        facts.imports.map((m) => ({ dll: m.dll, iatRva: m.iatRva, symbols: m.symbols.map((s) => s) })),
      );
      assert.deepEqual(
        image.baseRelocations.entries.map((e) => ({ type: TYPE_NAMES[e.type] ?? String(e.type), address: e.rva })),
        facts.relocations,
      );
    });
  }
});
