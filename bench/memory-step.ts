/**
 * Bench step: at scale, in flat memory. Builds a tree of ~3,000 inputs (hard links, or symlinks
 * across file systems, to the corpus files and the test fixtures, repeated in numbered folders:
 * a DriverStore's size) and scans it as a process with `-f json -o FILE`, with `-f jsonl` to
 * stdout, with all cores, and image-only, reporting each run's time and peak RSS against the
 * 300 MB the issue allows, and pefile's time over the same files. BENCH_MEMORY_FILES sets the
 * number of inputs.
 */
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { corpusDir, repoRoot } from '../test/helpers/paths.js';
import { runBuiltCli } from './built-cli.js';
import { pythonWithPefile, timeCommand } from './process.js';

export const PEAK_RSS_LIMIT = 300 * 1024 * 1024;

function driverFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return driverFiles(p);
    return e.isFile() && /\.(sys|exe|dll|efi)$/i.test(e.name) ? [p] : [];
  });
}

/** A temp tree of `count` inputs made from the corpus and fixtures; the caller removes it. */
export function buildInputTree(count: number): { dir: string; files: number } {
  const sources = [...driverFiles(corpusDir), ...driverFiles(join(repoRoot, 'test', 'fixtures'))];
  if (sources.length === 0) throw new Error('no corpus or fixture files to build the inputs from');
  const dir = mkdtempSync(join(tmpdir(), 'hvci-bench-memory-'));
  let made = 0;
  for (let copy = 0; made < count; copy++) {
    const sub = join(dir, String(copy).padStart(4, '0'));
    mkdirSync(sub);
    for (const [i, source] of sources.entries()) {
      if (made >= count) break;
      const target = join(sub, `${i}-${basename(source)}`);
      try {
        linkSync(source, target);
      } catch {
        symlinkSync(source, target);
      }
      made++;
    }
  }
  return { dir, files: made };
}

export interface MemoryRun {
  format: string;
  files: number;
  seconds: number;
  peakRss: number | undefined;
  status: number;
}

/** Every file of the input tree, for the pefile script (which takes paths, not folders). */
function treeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? treeFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Scans a tree of `count` inputs once per report form and job count; returns each run's time
 * and peak RSS, and pefile's time over the same files when python3 has pefile.
 */
export async function measureMemory(count: number): Promise<{ runs: MemoryRun[]; pefileSeconds: number | undefined }> {
  const tree = buildInputTree(count);
  try {
    const runs: MemoryRun[] = [];
    const cores = availableParallelism();
    const all = cores > 1 ? ['--jobs', String(cores)] : [];
    const forms: Array<readonly [string, readonly string[]]> = [
      ['json -o FILE', ['-f', 'json', '-o', join(tree.dir, 'report.json')]],
      ['jsonl > stdout', ['-f', 'jsonl']],
      // At scale each worker's start-up and JIT warm-up is paid once for many files: whether
      // all cores beat the default (one less than the cores) shows here, not on the corpus.
      ...(cores > 1 ? [[`jsonl --jobs ${cores}`, ['-f', 'jsonl', ...all]] as const] : []),
      ['jsonl --image-only', ['-f', 'jsonl', '--image-only']],
      ...(cores > 1 ? [[`jsonl --image-only --jobs ${cores}`, ['-f', 'jsonl', '--image-only', ...all]] as const] : []),
    ];
    for (const [format, args] of forms) {
      const r = await runBuiltCli(['scan', ...args, '--fail-on', 'none', tree.dir]);
      runs.push({ format, files: tree.files, seconds: r.seconds, peakRss: r.peakRss, status: r.status });
    }
    const python = pythonWithPefile();
    const pefileSeconds = python ? timeCommand(python, [join(repoRoot, 'bench', 'pefile-parse.py'), ...treeFiles(tree.dir).filter((f) => !f.endsWith('.json'))], 1).seconds : undefined;
    return { runs, pefileSeconds };
  } finally {
    rmSync(tree.dir, { recursive: true, force: true });
  }
}

export async function memoryStep(): Promise<void> {
  const count = Number(process.env.BENCH_MEMORY_FILES ?? 3000);
  const { runs, pefileSeconds } = await measureMemory(count);
  console.log(`
4. At scale: ${count} inputs (the corpus and fixtures, repeated), as a process; limit ${PEAK_RSS_LIMIT / 1024 / 1024} MB peak RSS`);
  if (pefileSeconds !== undefined) console.log(`  pefile over the same files: ${pefileSeconds.toFixed(1)} s (${(count / pefileSeconds).toFixed(0)} files/s)`);
  for (const r of runs) {
    const mb = r.peakRss === undefined ? 'unknown' : `${(r.peakRss / 1024 / 1024).toFixed(0)} MB`;
    const verdict = r.peakRss === undefined ? '' : r.peakRss < PEAK_RSS_LIMIT ? ' (under the limit)' : ' (OVER the limit)';
    const ratio = pefileSeconds === undefined ? '' : `, ${(r.seconds / pefileSeconds).toFixed(2)}x pefile's time`;
    console.log(`  -f ${r.format.padEnd(30)} peak RSS ${mb}${verdict}, ${r.seconds.toFixed(1)} s (${(r.files / r.seconds).toFixed(0)} files/s)${ratio}, exit ${r.status}`);
  }
}
