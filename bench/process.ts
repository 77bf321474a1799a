/** Timing whole commands as a user runs them: wall-clock time of a child process, median of some runs. */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface CommandTiming {
  seconds: number;
  /** The command's exit status on the last run (a bench that silently failed would lie). */
  status: number | null;
}

export function timeCommand(command: string, args: readonly string[], runs: number, env?: NodeJS.ProcessEnv): CommandTiming {
  const times: number[] = [];
  let status: number | null = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...(env ? { env } : {}) });
    times.push((performance.now() - t0) / 1000);
    status = r.status;
    if (r.error) throw r.error;
  }
  return { seconds: median(times), status };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Whether `python3 -c "import pefile"` works (Debian: apt-get install python3-pefile). */
export function pythonWithPefile(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import pefile'], { stdio: 'ignore' });
    if (r.status === 0) return python;
  }
  return undefined;
}

/**
 * The environment without NODE_EXTRA_CA_CERTS, or undefined when it is not set. Node reads and
 * parses that certificate bundle at every start, before any of hvci runs (about 0.1 s of CPU
 * for Debian's 140 certificates on the bench machine): cold starts are shown both ways.
 */
export function envWithoutExtraCaCerts(): NodeJS.ProcessEnv | undefined {
  if (!process.env.NODE_EXTRA_CA_CERTS) return undefined;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
