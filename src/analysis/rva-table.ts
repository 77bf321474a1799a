import { isExecutable, type PeImage } from '../pe/index.js';

/**
 * A map keyed by RVA for the hot loops of function discovery (one entry per instruction,
 * hundreds of thousands in a large driver). Over a span of at most MAX_DENSE_SPAN bytes it is
 * a typed array of slots — a Map's hashing and rehashing were a fifth of discovery's time —
 * and a Map beyond it (hostile section sizes) or for keys outside the span.
 */
const MAX_DENSE_SPAN = 16 * 1024 * 1024;

export class RvaTable<T> {
  private readonly slots: Int32Array | undefined;
  private readonly values: T[] = [];
  private readonly outside = new Map<number, T>();

  constructor(
    private readonly lo: number,
    hi: number,
  ) {
    const span = hi - lo;
    this.slots = span > 0 && span <= MAX_DENSE_SPAN ? new Int32Array(span) : undefined;
  }

  get size(): number {
    return this.values.length + this.outside.size;
  }

  get(rva: number): T | undefined {
    const slot = this.slotOf(rva);
    if (slot < 0) return this.outside.get(rva);
    const s = (this.slots as Int32Array)[slot] as number;
    return s === 0 ? undefined : this.values[s - 1];
  }

  has(rva: number): boolean {
    return this.get(rva) !== undefined;
  }

  set(rva: number, value: T): void {
    const slot = this.slotOf(rva);
    if (slot < 0) {
      this.outside.set(rva, value);
      return;
    }
    const slots = this.slots as Int32Array;
    const s = slots[slot] as number;
    if (s !== 0) this.values[s - 1] = value;
    else slots[slot] = this.values.push(value);
  }

  private slotOf(rva: number): number {
    const i = rva - this.lo;
    return this.slots && i >= 0 && i < this.slots.length ? i : -1;
  }
}

/** The span [lo, hi) of an image's executable sections, for an RvaTable over its code. */
export function codeSpan(image: PeImage): [number, number] {
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = 0;
  for (const s of image.sections) {
    if (!isExecutable(s)) continue;
    lo = Math.min(lo, s.virtualAddress);
    hi = Math.max(hi, s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData));
  }
  return lo < hi ? [lo, hi] : [0, 0];
}
