/**
 * A worker thread of the --jobs pool: analyses the bytes it is sent and posts the report
 * back. The decoder and the rules load once per worker, when it starts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyze, type AnalyzeOptions } from '../analyze.js';
import { type SourceSettings, sourceOptions } from './pdb-lookup.js';

export interface WorkerSetup {
  targetOs: NonNullable<AnalyzeOptions['targetOs']>;
  blocklist?: AnalyzeOptions['blocklist'];
  sources?: SourceSettings;
}

export interface WorkerTask {
  id: number;
  bytes: ArrayBuffer;
  path: string;
  sha256: string;
}

const setup = workerData as WorkerSetup;
parentPort?.on('message', (task: WorkerTask) => {
  const report = analyze(new Uint8Array(task.bytes), {
    path: task.path,
    sha256: task.sha256,
    targetOs: setup.targetOs,
    ...(setup.blocklist ? { blocklist: setup.blocklist } : {}),
    // The PDB is read here, in the worker, and dropped with the report.
    ...(setup.sources ? sourceOptions(setup.sources, task.path) : {}),
  });
  parentPort?.postMessage({ id: task.id, report });
});
