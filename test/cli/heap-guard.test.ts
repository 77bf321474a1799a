/** The between-files heap guard: garbage past the threshold is collected; a heap that is live data is not collected after every file. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { keepHeapBounded } from '../../src/cli/heap-guard.js';

const MiB = 1024 * 1024;
const used = () => getHeapStatistics().used_heap_size;

/** About `mib` MiB of small objects on the heap (arrays of numbers boxed as objects). */
function allocate(mib: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < (mib * MiB) / 64; i++) out.push({ a: i, b: i + 1, c: i + 2 });
  return out;
}

it('collects the garbage of finished files once the used heap passes 128 MB, and does not collect again while the heap is live data', () => {
  let garbage: object[] | undefined = allocate(200);
  const before = used();
  assert.ok(before > 128 * MiB, `the test heap holds ${Math.round(before / MiB)} MB`);
  garbage = undefined; // what a finished file leaves: unreachable, not yet collected
  assert.equal(garbage, undefined);
  keepHeapBounded();
  const after = used();
  assert.ok(after < before / 2, `used heap ${Math.round(before / MiB)} MB -> ${Math.round(after / MiB)} MB`);

  // Live data over the threshold: the first call collects (nothing to free), then the guard
  // waits for the heap to double instead of collecting after every file.
  const live = allocate(200);
  keepHeapBounded();
  const start = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) keepHeapBounded();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 20 * 5, `20 calls over a live 200 MB heap took ${ms.toFixed(0)} ms: no collection each time`);
  assert.ok(live.length > 0);
});
