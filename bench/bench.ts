/**
 * npm run bench — speed on ../shared/corpus, as ratios to baselines measured in the same run,
 * so figures compare across machines (and across a loaded machine's moods). Not a test:
 * nothing here passes or fails.
 *   1. in process: each stage against reading the same files' bytes; 1b. ARM64 against x64
 *      on the two builds of System Informer (bench/arm64-step.ts);
 *   2. as a process, what a user runs (`node dist/bundle/main.js`, built by `npm run bench`):
 *      image-only and full scans at 1 and N jobs, against pefile parsing the same files when
 *      python3 has pefile (Debian: python3-pefile);
 *   3. cold start: `--version` and a one-file scan, against `node -e 0`.
 * BENCH_ROUNDS (default 5) and BENCH_RUNS (default 3) set the repetitions; medians are shown.
 */
import '../src/cli/node-digests.js';
import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findCallSitesFresh } from '../src/analysis/call-sites.js';
import { analyze, parsePe } from '../src/index.js';
import { corpusDir, imageFixtures, repoRoot } from '../test/helpers/paths.js';
import { envWithoutExtraCaCerts, median, pythonWithPefile, timeCommand } from './process.js';
import { arm64Step } from './arm64-step.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI = join(repoRoot, 'dist', 'bundle', 'main.js');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : e.isFile() ? [p] : [];
  });
}

interface Row {
  name: string;
  seconds: number;
  note?: string;
}

function table(title: string, rows: Row[], files: number, mib: number, baseline: Row, ratioLabel: string): void {
  console.log(`\n${title}`);
  console.log('stage'.padEnd(44) + 'seconds'.padStart(9) + 'files/s'.padStart(9) + 'MiB/s'.padStart(8) + ratioLabel.padStart(22));
  for (const r of rows) {
    console.log(
      r.name.padEnd(44) +
        r.seconds.toFixed(3).padStart(9) +
        (files / r.seconds).toFixed(0).padStart(9) +
        (mib / r.seconds).toFixed(1).padStart(8) +
        `${(r.seconds / baseline.seconds).toFixed(2)}x`.padStart(22) +
        (r.note ? `  ${r.note}` : ''),
    );
  }
}

// ---- 1. in process ----------------------------------------------------------------------

function inProcess(files: string[]): Row[] {
  const callSites = (path: string, strategy: 'targeted' | 'full'): void => {
    const parsed = parsePe(readFileSync(path));
    if (parsed.ok) findCallSitesFresh(parsed.image, strategy);
  };
  const stages: Array<{ name: string; run: (path: string) => void }> = [
    { name: 'read bytes (baseline)', run: (p) => void readFileSync(p) },
    { name: 'read + image checks only (--image-only)', run: (p) => void analyze(readFileSync(p), { path: p, imageOnly: true }) },
    // Call sites found by scanning for references to the IAT slots, then decoding only the
    // functions that hold them (what the rules use) — against decoding every function.
    { name: 'read + find API calls (targeted)', run: (p) => callSites(p, 'targeted') },
    { name: 'read + find API calls (decode all)', run: (p) => callSites(p, 'full') },
    { name: 'read + sha256 + all rules (= scan, 1 job)', run: (p) => void analyze(readFileSync(p), { path: p }) },
  ];
  for (const s of stages) s.run(files[0] as string); // warm up JIT and caches
  return stages.map((s) => {
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (const f of files) s.run(f);
      times.push((performance.now() - t0) / 1000);
    }
    return { name: s.name, seconds: median(times) };
  });
}

// ---- 2. as a process --------------------------------------------------------------------

function asProcess(files: string[], jobs: number): { rows: Row[]; baseline: Row | undefined } {
  const scan = (...args: string[]) => timeCommand(process.execPath, [CLI, 'scan', '-q', '--fail-on', 'none', ...args, corpusDir], RUNS);
  const rows: Row[] = [];
  const python = pythonWithPefile();
  let baseline: Row | undefined;
  if (python) {
    const t = timeCommand(python, [join(repoRoot, 'bench', 'pefile-parse.py'), ...files], RUNS);
    baseline = { name: 'pefile: headers, imports, relocations (python)', seconds: t.seconds };
    rows.push(baseline);
  }
  const add = (name: string, args: string[]) => {
    const t = scan(...args);
    rows.push({ name, seconds: t.seconds, ...(t.status !== 0 ? { note: `(exit ${t.status})` } : {}) });
  };
  // The default is one job less than the cores (on two cores: 1); all cores are shown too.
  add('hvci scan --image-only --jobs 1', ['--image-only', '--jobs', '1']);
  if (jobs > 1) add(`hvci scan --image-only --jobs ${jobs}`, ['--image-only', '--jobs', String(jobs)]);
  add('hvci scan --jobs 1', ['--jobs', '1']);
  if (jobs > 1) add(`hvci scan --jobs ${jobs}`, ['--jobs', String(jobs)]);
  return { rows, baseline };
}

// ---- 3. cold start ----------------------------------------------------------------------

function coldStart(): Row[] {
  const runs = Math.max(RUNS, 10);
  const one = join(imageFixtures, 'clean_driver.x64.mingw.sys');
  const rows = (env: NodeJS.ProcessEnv | undefined, suffix: string): Row[] => [
    { name: `node -e 0 (baseline)${suffix}`, seconds: timeCommand(process.execPath, ['-e', '0'], runs, env).seconds },
    { name: `hvci --version${suffix}`, seconds: timeCommand(process.execPath, [CLI, '--version'], runs, env).seconds },
    { name: `hvci rules${suffix}`, seconds: timeCommand(process.execPath, [CLI, 'rules'], runs, env).seconds },
    { name: `hvci scan one.sys${suffix}`, seconds: timeCommand(process.execPath, [CLI, 'scan', one], runs, env).seconds },
  ];
  const without = envWithoutExtraCaCerts();
  return [...rows(undefined, ''), ...(without ? rows(without, ' [no NODE_EXTRA_CA_CERTS]') : [])];
}

function main(): void {
  const files = listFiles(corpusDir);
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const mib = bytes / (1024 * 1024);
  const jobs = availableParallelism();
  console.log(`corpus: ${files.length} files, ${mib.toFixed(1)} MiB (${corpusDir}); ${jobs} cores; medians of ${ROUNDS} rounds in process, ${RUNS} runs as a process`);

  const inside = inProcess(files);
  table('1. In process (src via tsx)', inside, files.length, mib, inside[0] as Row, 'time vs read');
  arm64Step();

  const { rows, baseline } = asProcess(files, jobs);
  if (baseline) {
    table('2. As a process (node dist/bundle/main.js), against pefile', rows, files.length, mib, baseline, 'time vs pefile');
    console.log('   (below 1.00x: faster than pefile parsing the same files)');
  } else {
    table('2. As a process (node dist/bundle/main.js)', rows, files.length, mib, rows[0] as Row, 'time vs first row');
    console.log('   pefile not found: apt-get install python3-pefile to compare with it');
  }

  const cold = coldStart();
  console.log('\n3. Cold start (median of 10 runs)');
  let node = 0;
  for (const r of cold) {
    if (r.name.startsWith('node -e 0')) node = r.seconds; // each set against its own baseline
    console.log(r.name.padEnd(58) + `${(r.seconds * 1000).toFixed(0)} ms`.padStart(10) + `${((r.seconds - node) * 1000).toFixed(0)} ms over node`.padStart(22));
  }
}

main();
await (await import('./db-step.js')).dbStep();
await (await import('./memory-step.js')).memoryStep();
