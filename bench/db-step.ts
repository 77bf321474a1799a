/**
 * Bench step: `hvci scan --db` twice on the corpus, as a process. The second run finds every
 * file in the database, so it only reads and hashes them; its time is shown as a fraction of
 * the first's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanSummary } from '../src/index.js';
import { corpusDir } from '../test/helpers/paths.js';
import { runBuiltCli } from './built-cli.js';

export async function dbStep(inputs: readonly string[] = [corpusDir]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hvci-bench-db-'));
  try {
    const db = join(dir, 'results.sqlite');
    const run = async (name: string) => {
      const out = join(dir, `${name}.jsonl`);
      const r = await runBuiltCli(['scan', '-f', 'jsonl', '-o', out, '--fail-on', 'none', '--db', db, ...inputs]);
      const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
      const summary = (JSON.parse(lines.at(-1) as string) as { summary: ScanSummary }).summary;
      return { ...r, summary };
    };
    const first = await run('first');
    const second = await run('second');
    console.log(`\n--db twice (${first.summary.files} files, as a process, default --jobs):`);
    console.log(`  first run  (analyse + store): ${first.seconds.toFixed(2)} s, ${first.summary.reused ?? 0} file(s) taken from the database`);
    console.log(`  second run (all stored):      ${second.seconds.toFixed(2)} s, ${second.summary.reused ?? 0} of ${second.summary.files} taken from the database`);
    console.log(`  second / first: ${(second.seconds / first.seconds).toFixed(3)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
