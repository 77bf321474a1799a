import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { opendir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { specialKind } from './read-input.js';

export interface WalkEntry {
  path: string;
  /** Named on the command line (analysed even when it is not a PE file). */
  explicit: boolean;
  /** stat() of the path (symlinks followed). */
  info: Stats;
}

export interface WalkOutcome {
  skipped: number;
  errors: Array<{ path: string; error: string }>;
  /** FIFOs, devices and sockets met in directories: skipped, with what they are. */
  special: Array<{ path: string; reason: string }>;
}

/**
 * Yields the files to analyse: every file named explicitly, and every file under a named
 * directory that starts with "MZ" (other files there are counted as skipped). Symlinks are
 * followed; a directory reached twice (a loop) is reported, not re-entered.
 */
export async function* walk(inputs: readonly string[], outcome: WalkOutcome): AsyncGenerator<WalkEntry> {
  const visited = new Set<string>();
  for (const input of inputs) {
    let info;
    try {
      info = statSync(input);
    } catch (e) {
      outcome.errors.push({ path: input, error: describe(e) });
      continue;
    }
    if (info.isDirectory()) yield* walkDirectory(input, visited, outcome);
    else yield { path: input, explicit: true, info };
  }
}

async function* walkDirectory(dir: string, visited: Set<string>, outcome: WalkOutcome): AsyncGenerator<WalkEntry> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (e) {
    outcome.errors.push({ path: dir, error: describe(e) });
    return;
  }
  if (visited.has(real)) {
    outcome.errors.push({ path: dir, error: `directory already visited as ${real} (symlink loop?); not entered again` });
    return;
  }
  visited.add(real);
  let names: string[];
  try {
    const handle = await opendir(dir);
    names = [];
    for await (const entry of handle) names.push(entry.name);
  } catch (e) {
    outcome.errors.push({ path: dir, error: describe(e) });
    return;
  }
  names.sort();
  for (const name of names) {
    const path = join(dir, name);
    let info;
    try {
      // Synchronous, as the reads are (read-input.ts): a file's stat and "MZ" test cost
      // microseconds, a trip through the thread pool for each costs more.
      info = statSync(path);
    } catch (e) {
      outcome.errors.push({ path, error: describe(e) });
      continue;
    }
    if (info.isDirectory()) {
      yield* walkDirectory(path, visited, outcome);
    } else if (info.isFile()) {
      if (startsWithMz(path, outcome)) yield { path, explicit: false, info };
      else outcome.skipped++;
    } else {
      // Never opened: reading a FIFO would wait for a writer, a device may never end.
      outcome.skipped++;
      outcome.special.push({ path, reason: `skipped: ${specialKind(info) ?? 'not a regular file'}, not a driver file` });
    }
  }
}

function startsWithMz(path: string, outcome: WalkOutcome): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = new Uint8Array(2);
      return readSync(fd, buf, 0, 2, 0) === 2 && buf[0] === 0x4d && buf[1] === 0x5a;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    outcome.errors.push({ path, error: describe(e) });
    return false;
  }
}

export function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) {
    const code = String((e as { code: unknown }).code);
    const known: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      ELOOP: 'too many levels of symbolic links',
      EISDIR: 'is a directory',
      ENXIO: 'no such device or address (a socket or a device without a driver)',
      ENAMETOOLONG: 'file name too long',
    };
    return known[code] ?? `${code}: ${e instanceof Error ? e.message : String(e)}`;
  }
  return e instanceof Error ? e.message : String(e);
}
