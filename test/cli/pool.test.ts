/**
 * The --jobs worker pool on its own: a file's report comes back with the SHA-256 the worker
 * computed when the main thread sent none (no --db), and a worker that dies mid-file turns
 * only that file into an error report that keeps its path and size.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { AnalysisPool } from '../../src/cli/pool.js';
import { DEFAULT_TARGET_OS } from '../../src/rules/target-os.js';
import { imageFixtures } from '../helpers/paths.js';

const driver = join(imageFixtures, 'clean_driver.x64.mingw.sys');

/** The pool's worker threads (private to it; a test reaches in to kill one). */
function workersOf(pool: AnalysisPool): Worker[] {
  return (pool as unknown as { slots: Array<{ worker: Worker }> }).slots.map((s) => s.worker);
}

describe('AnalysisPool', () => {
  it('hashes the file in the worker when no SHA-256 is sent, and uses the one sent otherwise', async () => {
    const pool = new AnalysisPool(1, { targetOs: DEFAULT_TARGET_OS });
    try {
      const bytes = readFileSync(driver);
      const expected = createHash('sha256').update(bytes).digest('hex');
      const hashed = await pool.analyze(new Uint8Array(bytes), driver, undefined);
      assert.equal(hashed.status, 'analyzed');
      assert.equal(hashed.sha256, expected);
      const given = await pool.analyze(new Uint8Array(bytes), driver, 'ab'.repeat(32));
      assert.equal(given.sha256, 'ab'.repeat(32));
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies mid-file costs only that file: an INTERNAL_ERROR report with its path and size; the file queued behind it is analysed by its replacement', async () => {
    const pool = new AnalysisPool(1, { targetOs: DEFAULT_TARGET_OS });
    try {
      const bytes = new Uint8Array(readFileSync(driver));
      const size = bytes.byteLength;
      const pending = pool.analyze(bytes, driver, undefined);
      assert.equal(bytes.byteLength, 0, 'the bytes were transferred to the worker');
      // One worker: the second file waits in the same worker's queue.
      const behind = pool.analyze(new Uint8Array(readFileSync(driver)), `${driver}.second`, undefined);
      const workers = workersOf(pool);
      assert.equal(workers.length, 1);
      await (workers[0] as Worker).terminate();
      const report = await pending;
      assert.equal(report.status, 'error');
      assert.equal(report.errorCode, 'INTERNAL_ERROR');
      assert.equal(report.path, driver);
      assert.equal(report.size, size);
      const second = await behind;
      assert.equal(second.status, 'analyzed', second.error);
      assert.equal(second.path, `${driver}.second`);
      // The pool replaced the worker: later files are analysed too.
      const next = await pool.analyze(new Uint8Array(readFileSync(driver)), driver, undefined);
      assert.equal(next.status, 'analyzed');
    } finally {
      await pool.close();
    }
  });
});
