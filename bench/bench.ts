/**
 * npm run bench — throughput on ../shared/corpus, reported as ratios to a baseline
 * measured in the same run (reading the same files' bytes), so figures compare across
 * machines. Not a test: nothing here passes or fails.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findCallSitesFresh } from '../src/analysis/call-sites.js';
import { analyze, parsePe, rules } from '../src/index.js';
import { corpusDir } from '../test/helpers/paths.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : e.isFile() ? [p] : [];
  });
}

interface Stage {
  name: string;
  run: (path: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function measure(files: string[], stage: Stage): number {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (const f of files) stage.run(f);
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

const NO_HASH = '0'.repeat(64);
const imageRules = rules.filter((r) => !r.meta.requiresCode);

function callSites(path: string, strategy: 'targeted' | 'full'): number {
  const parsed = parsePe(readFileSync(path));
  return parsed.ok ? (findCallSitesFresh(parsed.image, strategy)?.sites.length ?? 0) : 0;
}

export const stages: Stage[] = [
  { name: 'read bytes (baseline)', run: (p) => void readFileSync(p) },
  {
    name: 'read + image rules only',
    run: (p) => void analyze(readFileSync(p), { path: p, sha256: NO_HASH, rules: imageRules }),
  },
  {
    // Call sites found by first scanning for references to the IAT slots, then decoding
    // only the functions that hold them (what the rules use).
    name: 'read + find API calls (targeted)',
    run: (p) => void callSites(p, 'targeted'),
  },
  {
    // The same call sites found by decoding every function of the image.
    name: 'read + find API calls (decode all)',
    run: (p) => void callSites(p, 'full'),
  },
  { name: 'read + full analysis (all rules)', run: (p) => void analyze(readFileSync(p), { path: p, sha256: NO_HASH }) },
  {
    // What `hvci scan` does per file (sha256 by node:crypto, as in src/cli).
    name: 'read + sha256 + all rules (= scan)',
    run: (p) => {
      const b = readFileSync(p);
      analyze(b, { path: p, sha256: createHash('sha256').update(b).digest('hex') });
    },
  },
];

function main(): void {
  const files = listFiles(corpusDir);
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const mb = bytes / (1024 * 1024);
  console.log(`corpus: ${files.length} files, ${mb.toFixed(1)} MiB (${corpusDir}); median of ${ROUNDS} rounds`);
  for (const s of stages) s.run(files[0] as string); // warm up JIT and caches
  const results = stages.map((s) => ({ name: s.name, seconds: measure(files, s) }));
  const base = (results[0] as { seconds: number }).seconds;
  console.log('stage'.padEnd(38) + 'files/s'.padStart(10) + 'MiB/s'.padStart(10) + 'time vs baseline'.padStart(18));
  for (const r of results) {
    console.log(
      r.name.padEnd(38) +
        (files.length / r.seconds).toFixed(0).padStart(10) +
        (mb / r.seconds).toFixed(1).padStart(10) +
        `${(r.seconds / base).toFixed(2)}x`.padStart(18),
    );
  }
}

main();
await (await import('./db-step.js')).dbStep();
await (await import('./memory-step.js')).memoryStep();
