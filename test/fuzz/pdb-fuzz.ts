/**
 * Seeded mutation fuzzing of the PDB path: the fixture PDBs bent the ways damaged and
 * hostile PDBs are (bit flips, truncation at block boundaries, huge sizes and block
 * numbers in the superblock and stream directory, streams aimed at each other), each given
 * with its driver to analyze(). For every input: no exception, no internal error, a report
 * valid against the schema, and time under the per-file limit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.js';
import { pdbFixtures } from '../helpers/pdbutil.js';
import { fileSchemaErrors, pick, prng } from './fuzz.js';

export interface PdbFuzzResult {
  inputs: number;
  used: number;
  ignored: number;
  failures: Array<{ input: string; error: string }>;
  slowestMs: number;
}

const HUGE = [0xffffffff, 0xfffffff0, 0x7fffffff, 0x80000000, 0x10000, 0];

type Mutator = (b: Uint8Array, r: () => number) => Uint8Array;

/** The directory's offset, read straight from the superblock (not through src/pdb). */
function directoryAt(b: Uint8Array): number | undefined {
  if (b.length < 56) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bs = dv.getUint32(32, true);
  const map = dv.getUint32(52, true) * bs;
  if (bs === 0 || map + 4 > b.length) return undefined;
  const at = dv.getUint32(map, true) * bs;
  return at + 64 <= b.length ? at : undefined;
}

const MUTATORS: Array<[string, Mutator]> = [
  ['bit flips', (b, r) => {
    const c = b.slice();
    for (let i = 0, n = 1 + Math.floor(r() * 32); i < n; i++) {
      const at = Math.floor(r() * c.length);
      c[at] = (c[at] as number) ^ (1 << Math.floor(r() * 8));
    }
    return c;
  }],
  ['truncation at a block boundary', (b, r) => b.slice(0, Math.floor(r() * (b.length / 512)) * 512 + pick(r, [0, 1, 4, 28, 56]))],
  ['huge dword in the superblock', (b, r) => {
    const c = b.slice();
    const at = 32 + 4 * Math.floor(r() * 6);
    // A second mutation may come after a truncation that left no superblock to change.
    if (at + 4 <= c.length) new DataView(c.buffer).setUint32(at, pick(r, HUGE), true);
    return c;
  }],
  ['huge stream size or block number in the directory', (b, r) => {
    const c = b.slice();
    const at = directoryAt(c);
    if (at === undefined) return c;
    const dv = new DataView(c.buffer);
    const count = Math.min(dv.getUint32(at, true), 64);
    dv.setUint32(at + 4 * Math.floor(r() * (count + 1)), pick(r, [...HUGE, 1, 2, 3]), true);
    return c;
  }],
  ['two streams swap sizes (one read through the other)', (b, r) => {
    const c = b.slice();
    const at = directoryAt(c);
    if (at === undefined) return c;
    const dv = new DataView(c.buffer);
    const count = Math.min(dv.getUint32(at, true), 64);
    const i = 1 + Math.floor(r() * count);
    const k = 1 + Math.floor(r() * count);
    if (at + 4 * Math.max(i, k) + 4 > c.length) return c;
    const a = dv.getUint32(at + 4 * i, true);
    dv.setUint32(at + 4 * i, dv.getUint32(at + 4 * k, true), true);
    dv.setUint32(at + 4 * k, a, true);
    return c;
  }],
  ['random byte runs inside a stream', (b, r) => {
    const c = b.slice();
    const at = Math.floor(r() * c.length);
    c.fill(pick(r, [0x00, 0xff, 0x7f, 0x80]), at, Math.min(c.length, at + 1 + Math.floor(r() * 64)));
    return c;
  }],
];

export function runPdbFuzz(options: { count: number; seed: number; timeLimitMs: number }): PdbFuzzResult {
  const pairs = ['rxdrv.x64', 'rxdrv.x86'].map((n) => ({
    name: n,
    driver: new Uint8Array(readFileSync(join(pdbFixtures, `${n}.sys`))),
    pdb: new Uint8Array(readFileSync(join(pdbFixtures, `${n}.pdb`))),
  }));
  const r = prng(options.seed);
  const result: PdbFuzzResult = { inputs: 0, used: 0, ignored: 0, failures: [], slowestMs: 0 };
  for (let i = 0; i < options.count; i++) {
    const pair = pairs[i % pairs.length] as (typeof pairs)[number];
    const [what, mutate] = pick(r, MUTATORS);
    let bytes = mutate(pair.pdb, r);
    if (r() < 0.3) bytes = pick(r, MUTATORS)[1](bytes, r);
    const input = `#${i} ${pair.name}.pdb (${what})`;
    result.inputs++;
    const started = process.cpuUsage(); // CPU time, as the PE fuzzer measures
    try {
      const report = analyze(pair.driver, { path: `${pair.name}.sys`, pdbs: [{ path: `${pair.name}.pdb`, bytes }] });
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      result.slowestMs = Math.max(result.slowestMs, ms);
      if (ms > options.timeLimitMs) result.failures.push({ input, error: `took ${Math.round(ms)} CPU ms` });
      if (report.pdb?.status === 'used') result.used++;
      else result.ignored++;
      const internal = [report.errorCode === 'INTERNAL_ERROR' ? report.error : undefined, ...(report.incompleteAnalysis ?? []).map((x) => x.reason)];
      for (const e of internal) if (e?.startsWith('internal error')) result.failures.push({ input, error: e });
      for (const e of fileSchemaErrors(report).slice(0, 3)) result.failures.push({ input, error: `schema: ${e}` });
    } catch (e) {
      result.failures.push({ input, error: `uncaught: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return result;
}
