/**
 * Seeded mutation fuzzing of analyze(): fixtures, corpus drivers and the hostile inputs,
 * bent the ways damaged and hostile files are — bit flips, truncation at every structure
 * boundary, huge counts and sizes, 4 GiB claims, directories pointing at themselves or at
 * each other, relocation blocks that loop. For every input: no exception, a report that is
 * valid against the schema, no internal error, and time under the per-file limit.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.js';
import type { FileReport, ScanReport } from '../../src/report/model.js';
import { hostileInputs } from '../hostile/inputs.js';
import { corpusDir, hasCorpus, repoRoot } from '../helpers/paths.js';
import { reportSchemaErrors } from '../helpers/schema.js';

export interface FuzzOptions {
  count: number;
  seed: number;
  /** A report taking more CPU time than this (user + system, ms) counts as over the limit. */
  timeLimitMs: number;
  /** Include the full-size hostile inputs (slow). */
  full?: boolean;
  /** Seeds larger than this are not used (keeps short runs short). */
  maxSeedBytes?: number;
  onProgress?: (done: number) => void;
  /** Analyse only these input numbers (the others are generated and skipped): to reproduce one. */
  only?: ReadonlySet<number>;
  /** Analyse only inputs i with i % count === index - 1: N shards together are the same inputs as one run. */
  shard?: { index: number; count: number };
  /** Called before each input is analysed (HVCI_FUZZ_TRACE: find the input that kills the process). */
  onInput?: (input: string, bytes: Uint8Array) => void;
  /** Called with each input that failed a check, to save it for a bug report. */
  onFailure?: (input: string, bytes: Uint8Array) => void;
}

export interface FuzzResult {
  inputs: number;
  seeds: number;
  analyzed: number;
  rejected: number;
  incomplete: number;
  uncaught: Array<{ input: string; error: string }>;
  internalErrors: Array<{ input: string; error: string }>;
  overLimit: Array<{ input: string; ms: number }>;
  invalidReports: Array<{ input: string; errors: string[] }>;
  slowestMs: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seed {
  name: string;
  bytes: Uint8Array;
}

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) yield* files(path);
    else if (info.isFile() && /\.(sys|dll|exe|efi)$/i.test(name)) yield path;
  }
}

export function fuzzSeeds(options: Pick<FuzzOptions, 'full' | 'maxSeedBytes'>): Seed[] {
  const max = options.maxSeedBytes ?? Infinity;
  const seeds: Seed[] = [];
  const dirs = ['image', 'calls', 'kmdf'].map((d) => join(repoRoot, 'test', 'fixtures', d, 'bin'));
  if (hasCorpus) dirs.push(corpusDir);
  for (const dir of dirs) {
    for (const path of files(dir)) {
      if (statSync(path).size <= max) seeds.push({ name: path.slice(repoRoot.length + 1), bytes: new Uint8Array(readFileSync(path)) });
    }
  }
  for (const h of hostileInputs) {
    if (!h.fast && !options.full) continue;
    const bytes = h.bytes();
    if (bytes.length <= max || options.full) seeds.push({ name: `hostile/${h.name}`, bytes });
  }
  return seeds;
}

/** Offsets where PE structures begin and end, read straight from the bytes (not through src/pe). */
function boundaries(b: Uint8Array): number[] {
  const out = [0, 2, 0x3c, 0x40];
  if (b.length < 0x40) return out;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pe = dv.getUint32(0x3c, true);
  if (pe + 24 > b.length) return out;
  const sizeOfOptional = dv.getUint16(pe + 20, true);
  const sections = dv.getUint16(pe + 6, true);
  const table = pe + 24 + sizeOfOptional;
  out.push(pe, pe + 4, pe + 24, pe + 24 + 96, table);
  for (let i = 0; i < Math.min(sections, 96) && table + 40 * i + 40 <= b.length; i++) {
    const s = table + 40 * i;
    const raw = dv.getUint32(s + 20, true);
    const size = dv.getUint32(s + 16, true);
    out.push(s, raw, raw + Math.floor(size / 2), raw + size);
  }
  return out.filter((o) => o > 0 && o < b.length);
}

interface Layout {
  pe: number;
  dirs: number;
  table: number;
  sections: number;
}

function layout(b: Uint8Array): Layout | undefined {
  if (b.length < 0x40) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pe = dv.getUint32(0x3c, true);
  if (pe + 24 + 0x70 > b.length) return undefined;
  const is64 = dv.getUint16(pe + 24, true) === 0x20b;
  return { pe, dirs: pe + 24 + (is64 ? 112 : 96), table: pe + 24 + dv.getUint16(pe + 20, true), sections: dv.getUint16(pe + 6, true) };
}

const HUGE = [0xffffffff, 0xfffffff0, 0x7fffffff, 0x80000000, 0x10000000, 0];

type Mutator = (b: Uint8Array, r: () => number) => Uint8Array;
export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const MUTATORS: Array<[string, Mutator]> = [
  ['bit flips', (b, r) => {
    const c = b.slice();
    const n = 1 + Math.floor(r() * 16);
    for (let i = 0; i < n; i++) {
      const at = Math.floor(r() * c.length);
      c[at] = (c[at] as number) ^ (1 << Math.floor(r() * 8));
    }
    return c;
  }],
  ['header bit flips', (b, r) => {
    const c = b.slice();
    const end = Math.min(c.length, 0x400);
    for (let i = 0; i < 4; i++) {
      const at = Math.floor(r() * end);
      c[at] = (c[at] as number) ^ (1 << Math.floor(r() * 8));
    }
    return c;
  }],
  ['truncation at a structure boundary', (b, r) => b.slice(0, pick(r, boundaries(b)))],
  ['huge dword in the headers', (b, r) => {
    const c = b.slice();
    const end = Math.min(c.length, 0x400) - 4;
    if (end <= 0) return c;
    new DataView(c.buffer).setUint32(Math.floor((r() * end) / 4) * 4, pick(r, HUGE), true);
    return c;
  }],
  ['a data directory claims 4 GiB or points anywhere', (b, r) => {
    const c = b.slice();
    const l = layout(c);
    if (!l) return c;
    const dv = new DataView(c.buffer);
    const i = Math.floor(r() * 16);
    if (l.dirs + 8 * i + 8 > c.length) return c;
    if (r() < 0.5) dv.setUint32(l.dirs + 8 * i + 4, pick(r, HUGE), true);
    else dv.setUint32(l.dirs + 8 * i, pick(r, [...HUGE, 0x40, l.pe, l.table, Math.floor(r() * c.length)]), true);
    return c;
  }],
  ['two data directories overlap (one points at another)', (b, r) => {
    const c = b.slice();
    const l = layout(c);
    if (!l || l.dirs + 128 > c.length) return c;
    const dv = new DataView(c.buffer);
    const from = Math.floor(r() * 16);
    const to = Math.floor(r() * 16);
    dv.setUint32(l.dirs + 8 * to, dv.getUint32(l.dirs + 8 * from, true), true);
    dv.setUint32(l.dirs + 8 * to + 4, dv.getUint32(l.dirs + 8 * from + 4, true), true);
    return c;
  }],
  ['a section claims 4 GiB (raw or virtual size, raw offset)', (b, r) => {
    const c = b.slice();
    const l = layout(c);
    if (!l || l.sections === 0) return c;
    const s = l.table + 40 * Math.floor(r() * Math.min(l.sections, 96));
    if (s + 40 > c.length) return c;
    new DataView(c.buffer).setUint32(s + pick(r, [8, 12, 16, 20]), pick(r, HUGE), true);
    return c;
  }],
  ['huge section count', (b, r) => {
    const c = b.slice();
    const l = layout(c);
    if (!l) return c;
    new DataView(c.buffer).setUint16(l.pe + 6, pick(r, [0xffff, 0x8000, 97, 0]), true);
    return c;
  }],
  ['relocation and import blocks that loop (sizes 0 or 8, descriptors pointing at themselves)', (b, r) => {
    const c = b.slice();
    const l = layout(c);
    if (!l || l.dirs + 48 > c.length) return c;
    const dv = new DataView(c.buffer);
    const reloc = dv.getUint32(l.dirs + 40, true);
    const imports = dv.getUint32(l.dirs + 8, true);
    // The directories hold RVAs; in these images headers map 1:1, so aim at the headers too.
    const target = pick(r, [reloc, imports, l.dirs, l.table]);
    dv.setUint32(l.dirs + pick(r, [8, 40]), target, true);
    dv.setUint32(l.dirs + pick(r, [12, 44]), pick(r, [0, 8, 20, 0xffffffff]), true);
    return c;
  }],
  ['random byte runs', (b, r) => {
    const c = b.slice();
    const at = Math.floor(r() * c.length);
    const len = Math.min(c.length - at, 1 + Math.floor(r() * 256));
    c.fill(pick(r, [0x00, 0xff, 0xcc, 0x90, 0xe8]), at, at + len);
    return c;
  }],
];

/** Schema errors of one file's report, checked inside a minimal scan report. */
export function fileSchemaErrors(report: FileReport): string[] {
  const scan: ScanReport = {
    tool: { name: 'hvci', version: '0.0.0', informationUri: 'https://example.invalid' },
    files: [report],
    walkErrors: [],
    summary: { files: 1, analyzed: 0, errors: 0, incompatible: 0, warnings: 0, compatible: 0, kernelDrivers: 0, findings: { error: 0, warning: 0, note: 0 }, skipped: 0, targetOs: 'win10-1507', failOn: 'error', exitCode: 0 },
  };
  return reportSchemaErrors(JSON.parse(JSON.stringify(scan)));
}

export function runFuzz(options: FuzzOptions): FuzzResult {
  const seeds = fuzzSeeds(options);
  const r = prng(options.seed);
  const result: FuzzResult = {
    inputs: 0,
    seeds: seeds.length,
    analyzed: 0,
    rejected: 0,
    incomplete: 0,
    uncaught: [],
    internalErrors: [],
    overLimit: [],
    invalidReports: [],
    slowestMs: 0,
  };
  if (seeds.length === 0) throw new Error('no seeds: fixtures missing?');
  for (let i = 0; i < options.count; i++) {
    const seed = seeds[i % seeds.length] as Seed;
    const [what, mutate] = pick(r, MUTATORS);
    const steps = 1 + Math.floor(r() * 3);
    let bytes = seed.bytes;
    for (let k = 0; k < steps; k++) bytes = k === 0 ? mutate(bytes, r) : (pick(r, MUTATORS)[1])(bytes, r);
    const input = `#${i} ${seed.name} (${what}${steps > 1 ? ` +${steps - 1}` : ''})`;
    if (options.only && !options.only.has(i)) continue;
    if (options.shard && i % options.shard.count !== options.shard.index - 1) continue;
    result.inputs++;
    const failures = result.uncaught.length + result.internalErrors.length + result.overLimit.length + result.invalidReports.length;
    options.onInput?.(input, bytes);
    // CPU time, not wall time: on a shared machine (CI, a loaded laptop) a 0.5 s input can
    // wait 10 s for a core; a runaway loop burns CPU either way.
    const started = process.cpuUsage();
    let report;
    try {
      report = analyze(bytes, { path: input });
    } catch (e) {
      result.uncaught.push({ input, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const used = process.cpuUsage(started);
    const ms = (used.user + used.system) / 1000;
    result.slowestMs = Math.max(result.slowestMs, ms);
    if (ms > options.timeLimitMs) result.overLimit.push({ input, ms: Math.round(ms) });
    if (report.status === 'analyzed') result.analyzed++;
    else result.rejected++;
    if (report.errorCode === 'INTERNAL_ERROR') result.internalErrors.push({ input, error: report.error ?? '' });
    for (const part of report.incompleteAnalysis ?? []) {
      if (part.reason.startsWith('internal error')) result.internalErrors.push({ input, error: `${part.ruleId ?? part.part}: ${part.reason}` });
    }
    if (report.incompleteAnalysis) result.incomplete++;
    const errors = fileSchemaErrors(report);
    if (errors.length > 0) result.invalidReports.push({ input, errors: errors.slice(0, 3) });
    if (result.uncaught.length + result.internalErrors.length + result.overLimit.length + result.invalidReports.length > failures) options.onFailure?.(input, bytes);
    options.onProgress?.(i + 1);
  }
  return result;
}
