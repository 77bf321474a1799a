/**
 * `--jobs N`: analysis in N worker threads while the main thread walks, reads and writes.
 * Workers start only when a second file arrives (a one-file scan never pays for them); a
 * worker that dies takes only its current file with it (that file becomes an error report)
 * and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { errorFileReport, type FileReport } from '../report/model.js';
import type { WorkerSetup, WorkerTask } from './analyze-worker.js';

/** The worker's file next to this one: .js when built, .ts when run from source (tests, with tsx). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './analyze-worker.ts' : './analyze-worker.js', import.meta.url);

/**
 * Each worker's V8 heap, kept small so memory stays flat (issue 15: 300 MB for the whole scan):
 * a 2 MB semi-space instead of 16, and an old generation capped at 1 GiB, which also makes V8
 * collect sooner instead of letting garbage grow the heap. On the 255 corpus and fixture files
 * with --jobs 2 this took the peak RSS from about 300 MB to about 225 MB at no measurable CPU cost.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 1024 };

/** From source, the worker registers tsx's loader first (Node 20 does not pass loader hooks to workers). */
function startWorker(workerData: WorkerSetup): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData, resourceLimits: WORKER_HEAP });
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(code, { eval: true, workerData, resourceLimits: WORKER_HEAP });
}

interface Job {
  task: WorkerTask;
  /** The file's size, kept: the task's buffer is detached once transferred to the worker. */
  size: number;
  resolve: (report: FileReport) => void;
}

interface Slot {
  worker: Worker;
  /** Sent and not yet answered, in the order the worker takes them; the first is the one it analyses. */
  jobs: Job[];
}

/**
 * Files sent to a worker ahead of its answer: the next one already waits in its queue, so it
 * does not sit idle for a round trip through the main thread after each file (image-only
 * files take a few milliseconds each: the workers were idle about a quarter of the time).
 */
const PER_WORKER = 2;
const EMPTY = new ArrayBuffer(0);

export class AnalysisPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly setup: WorkerSetup,
  ) {}

  /** Analyses `bytes` in a worker (they are transferred, not copied); the worker hashes them when `sha256` is not given. */
  analyze(bytes: Uint8Array, path: string, sha256: string | undefined): Promise<FileReport> {
    const buffer =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
    return new Promise((resolve) => {
      this.queue.push({ task: { id: this.nextId++, bytes: buffer, path, ...(sha256 === undefined ? {} : { sha256 }) }, size: bytes.byteLength, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // An idle worker first, then a new one, then one with room in its queue.
      let slot = this.slots.find((s) => s.jobs.length === 0);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      slot ??= this.slots.find((s) => s.jobs.length < PER_WORKER);
      if (!slot) return;
      const job = this.queue.shift() as Job;
      slot.jobs.push(job);
      // The file the worker takes at once is handed over; one queued behind it is copied, so
      // that if the worker dies on the first, the second (blameless) goes to another worker.
      if (slot.jobs.length === 1) slot.worker.postMessage(job.task, [job.task.bytes]);
      else slot.worker.postMessage(job.task);
    }
  }

  private spawn(): Slot {
    const worker = startWorker(this.setup);
    const slot: Slot = { worker, jobs: [] };
    worker.on('message', (m: { id: number; report: FileReport }) => {
      const job = slot.jobs.shift();
      // The next file is now the one the worker analyses: the copy kept for a resend is not needed.
      const current = slot.jobs[0];
      if (current) current.task.bytes = EMPTY;
      if (job && job.task.id === m.id) job.resolve(m.report);
      this.dispatch();
    });
    const fail = (why: string) => {
      const [job, ...waiting] = slot.jobs;
      slot.jobs = [];
      this.slots.splice(this.slots.indexOf(slot), 1);
      if (job) job.resolve(crashReport(job, why));
      // Files that waited behind it were never started: they go first to the next worker.
      this.queue.unshift(...waiting);
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (e) => fail(`the analysis worker failed: ${e instanceof Error ? e.message : String(e)}`));
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(`the analysis worker exited (code ${code})`);
    });
    this.slots.push(slot);
    return slot;
  }
}

function crashReport({ task, size }: Job, why: string): FileReport {
  // A task sent without its hash (no --db) has no SHA-256 here: its bytes went to the worker.
  return errorFileReport({ path: task.path, sha256: task.sha256 ?? '', size }, 'INTERNAL_ERROR', `internal error (please report it): ${why}`);
}
