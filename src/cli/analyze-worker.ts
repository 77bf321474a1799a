/**
 * A worker thread of the --jobs pool: analyses the bytes it is sent and posts the report
 * back. The decoder and the rules load once per worker, when it starts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyze, type AnalyzeOptions } from '../analyze.js';
import './node-digests.js'; // native digests for the core (src/digest)

/** The analysis options every file of a scan shares. */
export type WorkerSetup = Pick<AnalyzeOptions, 'blocklist' | 'imageOnly'> & Required<Pick<AnalyzeOptions, 'targetOs'>>;

export interface WorkerTask {
  id: number;
  bytes: ArrayBuffer;
  path: string;
  sha256: string;
}

const setup = workerData as WorkerSetup;
parentPort?.on('message', (task: WorkerTask) => {
  const report = analyze(new Uint8Array(task.bytes), { path: task.path, sha256: task.sha256, ...setup });
  parentPort?.postMessage({ id: task.id, report });
});
