/**
 * Flat memory (opt-in, HVCI_MEMORY_TEST=1: it scans ~3,000 files twice, minutes of CPU): the
 * built CLI as a process, `-f json -o FILE` and `-f jsonl` to stdout, each under 300 MB peak RSS.
 * HVCI_MEMORY_FILES sets the number of inputs (default 3000).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { measureMemory, PEAK_RSS_LIMIT } from '../../bench/memory-step.js';

const enabled = process.env.HVCI_MEMORY_TEST === '1';

it('peak RSS stays under 300 MB for ~3,000 inputs, JSON to a file and JSONL', { skip: enabled ? false : 'opt-in: HVCI_MEMORY_TEST=1', timeout: 3_600_000 }, async () => {
  const { runs } = await measureMemory(Number(process.env.HVCI_MEMORY_FILES ?? 3000));
  for (const r of runs) {
    assert.ok([0, 1, 3].includes(r.status), `${r.format}: exit ${r.status}`);
    assert.ok(r.peakRss !== undefined, `${r.format}: peak RSS not measured`);
    console.log(`${r.format}: ${r.files} files, peak RSS ${(r.peakRss / 1024 / 1024).toFixed(0)} MB`);
    assert.ok(r.peakRss < PEAK_RSS_LIMIT, `${r.format}: peak RSS ${r.peakRss} bytes`);
  }
});
