/**
 * Progress of a long scan on stderr (a terminal only, never with --quiet): files done of the
 * total, MiB/s and the ETA, drawn by cli-progress. The total comes from a second, cheap walk
 * of the inputs run beside the scan; the bar appears when that count is in.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import { inShard, type Shard } from './shard.js';
import { walk } from './walk.js';

const MIB = 1024 * 1024;

export interface InputCount {
  files: number;
  bytes: number;
}

/** The files a scan of `inputs` will analyse, and their bytes: the walk scanEach makes, filtered alike. */
export async function countScanInputs(
  inputs: readonly string[],
  filter: { ignore?: (path: string) => boolean; shard?: Shard },
): Promise<InputCount> {
  const count = { files: 0, bytes: 0 };
  for await (const entry of walk(inputs, { skipped: 0, errors: [], special: [] })) {
    if (!entry.explicit && filter.ignore?.(entry.path)) continue;
    if (filter.shard && !inShard(entry.path, filter.shard)) continue;
    count.files++;
    count.bytes += entry.info.size;
  }
  return count;
}

export class ScanProgress {
  private readonly started = Date.now();
  private files = 0;
  private bytes = 0;
  private total: InputCount | undefined;
  private readonly bars: MultiBar;
  private bar: SingleBar | undefined;
  private stopped = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    count: Promise<InputCount>,
  ) {
    this.bars = new MultiBar({
      stream,
      format: '{bar} {files}/{totalFiles} files | {rate} MiB/s | ETA {eta_formatted}',
      barsize: 24,
      clearOnComplete: true,
      // Redrawn on every tick, so a line written above it (an error, report text) never hides it for long.
      forceRedraw: true,
      etaBuffer: 200,
      fps: 5,
    });
    count.then(
      (total) => {
        this.total = total;
        if (!this.stopped) this.bar = this.bars.create(Math.max(total.bytes, 1), this.bytes, this.payload());
      },
      () => undefined, // no total, no bar: the scan itself reports what could not be walked
    );
  }

  /** One more file done, of `size` bytes. */
  fileDone(size: number): void {
    this.files++;
    this.bytes += size;
    this.bar?.update(this.bytes, this.payload());
  }

  /** Clears the bar's line so a line can be written to the terminal; the bar is drawn again below it. */
  clear(): void {
    if (this.bar && !this.stopped) this.stream.write('\r\x1b[K');
  }

  /** Removes the bar for good (before the summary). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.bar) this.bars.stop();
  }

  private payload(): Record<string, string | number> {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    return { files: this.files, totalFiles: this.total?.files ?? '?', rate: (this.bytes / MIB / seconds).toFixed(1) };
  }
}
