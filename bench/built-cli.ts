/** The built CLI (dist/bundle/main.js, the bin), as users run it; built once per run unless `npm run bench` just built it. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../test/helpers/paths.js';

export const builtCliEntry = join(repoRoot, 'dist', 'bundle', 'main.js');
/** `npm run bench` builds before it starts (HVCI_BENCH_BUILT=1); other callers build once here. */
let built = process.env.HVCI_BENCH_BUILT === '1';

export function buildCli(): void {
  if (built) return;
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
  built = true;
}

export interface CliRun {
  status: number;
  seconds: number;
  /** Peak resident set size of the process in bytes (Linux: VmHWM from /proc, read until it exits). */
  peakRss?: number;
  stderr: string;
}

/** GNU time (Debian package `time`) reports a process's peak RSS exactly; without it, /proc is polled. */
const GNU_TIME = '/usr/bin/time';

/** Runs `node dist/bundle/main.js …` as a process; stdout is discarded (write reports with -o). */
export function runBuiltCli(args: readonly string[]): Promise<CliRun> {
  buildCli();
  const command = [process.execPath, builtCliEntry, ...args];
  const timeFile = join(mkdtempSync(join(tmpdir(), 'hvci-bench-')), 'rss');
  const exact = existsSync(GNU_TIME);
  const t0 = performance.now();
  const child = exact
    ? spawn(GNU_TIME, ['-o', timeFile, '-f', '%M', ...command], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(command[0] as string, command.slice(1), { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let peakRss: number | undefined;
  const readPeak = () => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakRss = Math.max(peakRss ?? 0, Number(m[1]) * 1024);
    } catch {
      // not Linux, or the process is gone
    }
  };
  // VmHWM only grows, so a poll that misses the last moments misses at most their growth.
  const poll = exact ? undefined : setInterval(readPeak, 20);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(poll);
      if (exact) {
        const kb = Number(/(\d+)\s*$/.exec(readFileSync(timeFile, 'utf8'))?.[1]);
        if (Number.isFinite(kb)) peakRss = kb * 1024;
      }
      rmSync(dirname(timeFile), { recursive: true, force: true });
      resolve({ status: code ?? -1, seconds, ...(peakRss === undefined ? {} : { peakRss }), stderr });
    });
  });
}
