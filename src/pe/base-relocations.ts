import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex, IMAGE_REL_BASED_HIGHADJ } from './constants.js';

export interface BaseRelocation {
  /** IMAGE_REL_BASED_* type (the entry's top 4 bits). */
  type: number;
  /** RVA of the bytes the loader patches: block PageRVA + the entry's low 12 bits. */
  rva: number;
  /** Offset within the 4 KiB block page (low 12 bits). */
  pageOffset: number;
  blockRva: number;
  /** RVA of this 16-bit entry inside .reloc. */
  entryRva: number;
  /** File offset of this entry, when file-backed. */
  entryFileOffset?: number;
}

export interface RelocationBlock {
  pageRva: number;
  sizeOfBlock: number;
  /** RVA of the block header inside the relocation directory. */
  blockRva: number;
  entryCount: number;
}

export interface BaseRelocations {
  blocks: RelocationBlock[];
  entries: BaseRelocation[];
}

/** Walks every block; after the first malformed block it records one issue and stops. */
export function parseBaseRelocations(space: AddressSpace): BaseRelocations {
  const dir = space.directory(DirectoryIndex.baseReloc);
  const blocks: RelocationBlock[] = [];
  const entries: BaseRelocation[] = [];
  if (!dir) return { blocks, entries };
  const end = dir.virtualAddress + dir.size;
  let at = dir.virtualAddress;
  while (at + 8 <= end) {
    const pageRva = space.u32(at);
    const sizeOfBlock = space.u32(at + 4);
    if (pageRva === undefined || sizeOfBlock === undefined) {
      space.log.add('RELOCATION_BLOCK_MALFORMED', `relocation block at RVA ${hex(at)} is outside the image`);
      break;
    }
    if (sizeOfBlock < 8 || sizeOfBlock > end - at || sizeOfBlock % 2 !== 0) {
      // A zero-filled tail (SizeOfBlock 0) is common padding, not corruption.
      if (!(sizeOfBlock === 0 && pageRva === 0)) {
        space.log.add(
          'RELOCATION_BLOCK_MALFORMED',
          `relocation block at RVA ${hex(at)} has SizeOfBlock ${hex(sizeOfBlock)} (directory ends at ${hex(end)}); later blocks ignored`,
          space.offsetOf(at + 4, 4),
        );
      }
      break;
    }
    // A block must be file bytes: a section's zero-filled virtual tail (VirtualSize 4 GiB)
    // would otherwise read as hundreds of millions of ABSOLUTE entries.
    if (space.offsetOf(at, sizeOfBlock) === undefined) {
      space.log.add(
        'RELOCATION_BLOCK_MALFORMED',
        `relocation block at RVA ${hex(at)} (SizeOfBlock ${hex(sizeOfBlock)}) is not wholly in the file; later blocks ignored`,
        space.offsetOf(at + 4, 4),
      );
      break;
    }
    const count = (sizeOfBlock - 8) / 2;
    blocks.push({ pageRva, sizeOfBlock, blockRva: at, entryCount: count });
    for (let i = 0; i < count; i++) {
      const entryRva = at + 8 + 2 * i;
      const word = space.u16(entryRva);
      if (word === undefined) break;
      const type = word >> 12;
      const pageOffset = word & 0xfff;
      const entry: BaseRelocation = { type, rva: pageRva + pageOffset, pageOffset, blockRva: at, entryRva };
      const off = space.offsetOf(entryRva, 2);
      if (off !== undefined) entry.entryFileOffset = off;
      entries.push(entry);
      // HIGHADJ takes the next slot as its parameter.
      if (type === IMAGE_REL_BASED_HIGHADJ) i++;
    }
    at += sizeOfBlock;
  }
  return { blocks, entries };
}
