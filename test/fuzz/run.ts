/**
 * npm run fuzz — seeded mutation fuzzing of the analyser (see fuzz.ts).
 *   HVCI_FUZZ_COUNT   inputs to try (default 2000; the long run: 100000)
 *   HVCI_FUZZ_SEED    PRNG seed (default 1; the same seed gives the same inputs)
 *   HVCI_FUZZ_LIMIT_MS  per-file limit in CPU ms (default 10000; CPU, not wall time, so a loaded machine does not fail inputs)
 *   HVCI_HOSTILE_FULL=1 also the full-size hostile inputs (50 MB call chain, 100 MB of code)
 *   HVCI_FUZZ_MAX_SEED_BYTES=N  only seed files up to N bytes (leaves out the slow hostile inputs)
 *   HVCI_FUZZ_ONLY=12,345  analyse only these input numbers (to reproduce a failure)
 *   HVCI_FUZZ_SHARD=K/N  analyse only every Nth input, starting at the Kth: N processes with
 *                      the same seed and count run exactly the inputs of one run, on N cores
 *   HVCI_FUZZ_SAVE=DIR  write every input that failed a check to DIR
 *   HVCI_FUZZ_PDB_COUNT  mutated fixture PDBs to analyse with their drivers (default: a tenth of the count)
 *   HVCI_FUZZ_TRACE=FILE  name each input on stderr and write its bytes to FILE before analysing it
 *                      (to catch one that kills the process)
 * Exit 1 when any input raised, hit an internal error, broke the schema or the time limit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/cli/node-digests.js'; // native digests, as the CLI analyses
import { runFuzz } from './fuzz.js';
import { runPdbFuzz } from './pdb-fuzz.js';

const count = Number(process.env.HVCI_FUZZ_COUNT ?? 2000);
const seed = Number(process.env.HVCI_FUZZ_SEED ?? 1);
const timeLimitMs = Number(process.env.HVCI_FUZZ_LIMIT_MS ?? 10_000);
const full = process.env.HVCI_HOSTILE_FULL === '1';
const maxSeedBytes = process.env.HVCI_FUZZ_MAX_SEED_BYTES ? Number(process.env.HVCI_FUZZ_MAX_SEED_BYTES) : undefined;
const only = process.env.HVCI_FUZZ_ONLY ? new Set(process.env.HVCI_FUZZ_ONLY.split(',').map(Number)) : undefined;
const shardMatch = /^(\d+)\/(\d+)$/.exec(process.env.HVCI_FUZZ_SHARD ?? '');
const shard = shardMatch ? { index: Number(shardMatch[1]), count: Number(shardMatch[2]) } : undefined;
if (process.env.HVCI_FUZZ_SHARD && (!shard || shard.index < 1 || shard.index > shard.count)) throw new Error('HVCI_FUZZ_SHARD must be K/N with 1 <= K <= N');
const saveDir = process.env.HVCI_FUZZ_SAVE;
if (saveDir) mkdirSync(saveDir, { recursive: true });
const started = performance.now();
const tty = process.stderr.isTTY === true;
const result = runFuzz({
  count,
  seed,
  timeLimitMs,
  full,
  ...(maxSeedBytes ? { maxSeedBytes } : {}),
  ...(only ? { only } : {}),
  ...(shard ? { shard } : {}),
  ...(process.env.HVCI_FUZZ_TRACE
    ? {
        onInput: (input: string, bytes: Uint8Array) => {
          process.stderr.write(`${input}\n`);
          writeFileSync(process.env.HVCI_FUZZ_TRACE as string, bytes);
        },
      }
    : {}),
  ...(saveDir ? { onFailure: (input: string, bytes: Uint8Array) => writeFileSync(join(saveDir, `${input.split(' ')[0]?.slice(1)}.bin`), bytes) } : {}),
  onProgress: (done) => {
    if (tty && done % 100 === 0) process.stderr.write(`\r${done}/${count}`);
    else if (!tty && done % 10_000 === 0) process.stderr.write(`${done}/${count}\n`);
  },
});
if (tty) process.stderr.write('\r\x1b[K');
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const list = (label: string, xs: Array<{ input: string }>) => {
  for (const x of xs.slice(0, 10)) process.stdout.write(`  ${label}: ${JSON.stringify(x)}\n`);
};
list('uncaught', result.uncaught);
list('internal error', result.internalErrors);
list('over the limit', result.overLimit);
list('invalid report', result.invalidReports);
process.stdout.write(
  [
    `fuzz: seed ${seed}${shard ? `, shard ${shard.index}/${shard.count} of ${count}` : ''}, ${result.seeds} seed files, ${result.inputs} mutated inputs in ${seconds} s`,
    `  analysed ${result.analyzed}, rejected as malformed ${result.rejected}, incomplete (budget) ${result.incomplete}`,
    `  uncaught exceptions ${result.uncaught.length}, internal errors ${result.internalErrors.length}, over ${timeLimitMs} ms ${result.overLimit.length}, invalid reports ${result.invalidReports.length}`,
    `  slowest input ${Math.round(result.slowestMs)} ms`,
  ].join('\n') + '\n',
);
const pdbCount = Number(process.env.HVCI_FUZZ_PDB_COUNT ?? Math.ceil(count / 10));
const pdb = runPdbFuzz({ count: pdbCount, seed, timeLimitMs });
for (const f of pdb.failures.slice(0, 10)) process.stdout.write(`  pdb: ${JSON.stringify(f)}\n`);
process.stdout.write(`pdb fuzz: ${pdb.inputs} mutated PDBs: used ${pdb.used}, ignored ${pdb.ignored}, failures ${pdb.failures.length}, slowest ${Math.round(pdb.slowestMs)} ms\n`);
const bad = result.uncaught.length + result.internalErrors.length + result.overLimit.length + result.invalidReports.length + pdb.failures.length;
process.exitCode = bad > 0 ? 1 : 0;
