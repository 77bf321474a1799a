/**
 * A safety net for flat memory (issue 15: 300 MB peak RSS for the whole scan). Each file's
 * analysis leaves its garbage in the old generation, and V8 collects it when its own
 * heuristics say so: on a machine with plenty of memory and CPU time stolen from the VM, the
 * concurrent marker falls behind and a scan held 270 MB of garbage (456 MB RSS after 600 of
 * 1,030 files, in process) where another run of the same files peaked at 215 MB. Between
 * files, when the used heap passes a threshold, this collects it; normally it never fires.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Used heap, per thread, above which the garbage of finished files is collected. */
const THRESHOLD = 128 * 1024 * 1024;

let collect: (() => void) | undefined;
let threshold = THRESHOLD;

/** Called between files (the main thread and each worker): collects when the heap has grown past the threshold. */
export function keepHeapBounded(): void {
  if (getHeapStatistics().used_heap_size < threshold) return;
  collect ??= exposeGc();
  collect();
  // A heap that stays large after collecting is live data, not garbage: wait for it to double
  // instead of collecting after every file.
  threshold = Math.max(THRESHOLD, 2 * getHeapStatistics().used_heap_size);
}

/** V8's gc() without starting node with --expose-gc: the flag installs it in contexts made after it. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
