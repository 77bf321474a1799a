import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, type FileReport, parseTargetOs } from '../../src/index.js';
import { imageFixtures } from './paths.js';
import { readTsv } from './tsv.js';

/** FIXTURES.tsv, written by test/fixtures/image/build.sh: what each binary is built to trip. */
export const imageFixtureTable = readTsv(join(imageFixtures, 'FIXTURES.tsv'));

export function fixtureBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(imageFixtures, file)));
}

export function analyzeFixture(file: string, targetOs = 'win10-1507'): FileReport {
  const target = parseTargetOs(targetOs);
  if (!target) throw new Error(targetOs);
  return analyze(fixtureBytes(file), { path: file, targetOs: target });
}

/** Fixtures built to trip `ruleId`, and every other one (which must not trip it). */
export function casesFor(ruleId: string): { trips: string[]; twins: string[] } {
  const trips = imageFixtureTable.filter((r) => r.expect === ruleId).map((r) => r.file as string);
  const twins = imageFixtureTable.filter((r) => r.expect !== ruleId).map((r) => r.file as string);
  return { trips, twins };
}

export interface ReadobjSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  characteristics: number;
}

/** Facts about a fixture as printed by llvm-readobj at build time (an independent parser). */
export interface ReadobjFacts {
  sectionAlignment: number;
  iatRva: number;
  iatSize: number;
  sections: ReadobjSection[];
  relocations: Array<{ type: string; address: number }>;
  imports: Array<{ dll: string; iatRva: number; symbols: string[] }>;
}

export function readobj(file: string): ReadobjFacts {
  const text = readFileSync(join(imageFixtures, `${file}.readobj.txt`), 'utf8');
  const num = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) throw new Error(`${file}.readobj.txt: ${re} not found`);
    return Number(m[1]);
  };
  const sections = [...text.matchAll(/Section \{\s+Number: \d+\s+Name: (\S*) \([^)]*\)\s+VirtualSize: (0x[0-9A-F]+)\s+VirtualAddress: (0x[0-9A-F]+)[\s\S]*?Characteristics \[ \((0x[0-9A-F]+)\)/g)].map(
    (m) => ({ name: m[1] as string, virtualSize: Number(m[2]), virtualAddress: Number(m[3]), characteristics: Number(m[4]) }),
  );
  const relocBlock = /^BaseReloc \[([\s\S]*?)^\]/m.exec(text)?.[1] ?? '';
  const relocations = [...relocBlock.matchAll(/Type: (\w+)\s+Address: (0x[0-9A-F]+)/g)].map((m) => ({
    type: m[1] as string,
    address: Number(m[2]),
  }));
  const imports = [...text.matchAll(/^Import \{\s+Name: (\S+)\s+ImportLookupTableRVA: 0x[0-9A-F]+\s+ImportAddressTableRVA: (0x[0-9A-F]+)([\s\S]*?)^\}/gm)].map(
    (m) => ({ dll: m[1] as string, iatRva: Number(m[2]), symbols: [...(m[3] as string).matchAll(/Symbol: (\S+)/g)].map((s) => s[1] as string) }),
  );
  return {
    sectionAlignment: num(/SectionAlignment: (\d+)/),
    iatRva: num(/IATRVA: (0x[0-9A-F]+)/),
    iatSize: num(/IATSize: (0x[0-9A-F]+)/),
    sections,
    relocations,
    imports,
  };
}
