/**
 * Executable sections that look packed or encrypted. Their bytes are not the code that will
 * run (an unpacker rewrites them first), so whatever they decode to — `mov cr0, rax`, `wrmsr`,
 * stores, calls — proves nothing. hvci gives such a section one note (rule packed-section)
 * and reports no call-site or instruction finding from it.
 *
 * A section looks packed when
 *   - the Shannon entropy of its bytes is above PACKED_ENTROPY (7.2 bits per byte) over at
 *     least MIN_BYTES bytes: compressed or encrypted data sits near 8, compiled x86/x64 code
 *     well below (at most 6.5 in ../shared/corpus, 208 executable sections), or
 *   - its entropy is above SUSPECT_ENTROPY (6.8) and a reached function there (reachability.ts)
 *     falls through or branches into bytes the decoder cannot decode.
 */
import { isExecutable, type PeImage, type Section } from '../pe/index.js';
import { codeModelOf } from './code-model.js';
import { branchTarget, fallsThrough } from './functions.js';
import { isReached } from './reachability.js';

export const PACKED_ENTROPY = 7.2;
export const SUSPECT_ENTROPY = 6.8;
export const MIN_BYTES = 512;

export interface PackedSection {
  section: Section;
  /** Bits per byte, 0..8. */
  entropy: number;
  /** Why it looks packed. */
  reason: 'entropy' | 'undecodable';
  /** For 'undecodable': the first RVA the decoder refused, inside a reached function. */
  undecodableAt?: number;
}

const cache = new WeakMap<PeImage, PackedSection[]>();

/** Shannon entropy of a byte string, in bits per byte. */
export function entropy(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (const b of bytes) counts[b] = (counts[b] as number) + 1;
  let h = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / bytes.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export function packedSections(image: PeImage): PackedSection[] {
  let found = cache.get(image);
  if (!found) {
    found = [];
    for (const section of image.sections) {
      if (!isExecutable(section)) continue;
      const size = Math.min(section.virtualSize || section.sizeOfRawData, section.sizeOfRawData);
      const bytes = size > 0 ? image.space.bytesAt(section.virtualAddress, size) : undefined;
      if (!bytes || bytes.length < MIN_BYTES) continue;
      const h = entropy(bytes);
      if (h > PACKED_ENTROPY) found.push({ section, entropy: h, reason: 'entropy' });
      else if (h > SUSPECT_ENTROPY) {
        const at = undecodableInReachedCode(image, section);
        if (at !== undefined) found.push({ section, entropy: h, reason: 'undecodable', undecodableAt: at });
      }
    }
    cache.set(image, found);
  }
  return found;
}

/** The section holding `rva` when that section looks packed. */
export function packedSectionAt(image: PeImage, rva: number): PackedSection | undefined {
  return packedSections(image).find((p) => rva >= p.section.virtualAddress && rva - p.section.virtualAddress < (p.section.virtualSize || p.section.sizeOfRawData));
}

function undecodableInReachedCode(image: PeImage, section: Section): number | undefined {
  const model = codeModelOf(image);
  if ('supported' in model) return undefined;
  const end = section.virtualAddress + (section.virtualSize || section.sizeOfRawData);
  for (const fn of model.functions.functions) {
    if (fn.start < section.virtualAddress || fn.start >= end || !isReached(model, fn)) continue;
    for (const insn of model.code(fn).insns) {
      // Where the code goes next — the following instruction, a branch target — the
      // decoder must be able to follow; in compiled code it always can.
      const next = [fallsThrough(insn) ? insn.rva + insn.length : undefined, branchTarget(insn)];
      for (const at of next) if (at !== undefined && model.reader.flowAt(at)?.flow === 'invalid') return at;
    }
  }
  return undefined;
}
