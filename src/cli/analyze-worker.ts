/**
 * A worker thread of the --jobs pool: analyses the bytes it is sent and posts the report
 * back. The decoder and the rules load once per worker, when it starts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyze, type AnalyzeOptions } from '../analyze.js';
import { keepHeapBounded } from './heap-guard.js';
import './node-digests.js'; // native digests for the core (src/digest)
import { type SourceSettings, sourceOptions } from './pdb-lookup.js';

/** The analysis options every file of a scan shares, and where its PDBs are looked for. */
export type WorkerSetup = Pick<AnalyzeOptions, 'blocklist' | 'imageOnly'> & Required<Pick<AnalyzeOptions, 'targetOs'>> & { sources?: SourceSettings };

export interface WorkerTask {
  id: number;
  bytes: ArrayBuffer;
  path: string;
  /** Computed by the main thread only when it needs it (--db); else analyze() hashes the bytes here. */
  sha256?: string;
}

const setup = workerData as WorkerSetup;
parentPort?.on('message', (task: WorkerTask) => {
  const { sources, ...options } = setup;
  const report = analyze(new Uint8Array(task.bytes), {
    path: task.path,
    ...(task.sha256 === undefined ? {} : { sha256: task.sha256 }),
    ...options,
    // The PDB is read here, in the worker, and dropped with the report.
    ...(sources ? sourceOptions(sources, task.path) : {}),
  });
  parentPort?.postMessage({ id: task.id, report });
  keepHeapBounded();
});
