/**
 * `--shard K/N`: a deterministic 1/N of the inputs, chosen by a hash of each file's path (as
 * hvci walks it), so N machines — a CI matrix, Kubernetes indexed Jobs — given the same
 * arguments split a corpus between them with no overlap and no gap, whatever order the file
 * system lists files in.
 */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) return undefined;
  return { index, count };
}

/** FNV-1a (32-bit) of the path's UTF-16 code units: fast, stable, and the same in every JS engine. */
function pathHash(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function inShard(path: string, shard: Shard): boolean {
  return pathHash(path.replace(/\\/g, '/')) % shard.count === shard.index - 1;
}
