import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';
import { virtualExtent } from './sections.js';

/** One .pdata entry: x64 RUNTIME_FUNCTION (12 bytes) or ARM64 (8 bytes). */
export interface RuntimeFunction {
  beginRva: number;
  /** x64 only; ARM64 packs the length into unwindData. */
  endRva?: number;
  /** x64: UNWIND_INFO RVA; ARM64: .xdata RVA or packed unwind data (low 2 bits != 0). */
  unwindData: number;
}

const MAX_ENTRIES = 1 << 20;

export function parseExceptionTable(space: AddressSpace, machine: number): RuntimeFunction[] {
  const dir = space.directory(DirectoryIndex.exception);
  if (!dir) return [];
  const isX64 = machine === 0x8664;
  const isArm64 = machine === 0xaa64 || machine === 0xa641;
  if (!isX64 && !isArm64) return [];
  const entrySize = isX64 ? 12 : 8;
  const count = Math.min(Math.floor(dir.size / entrySize), MAX_ENTRIES);
  const out: RuntimeFunction[] = [];
  for (let i = 0; i < count; i++) {
    const at = dir.virtualAddress + i * entrySize;
    const section = space.offsetOf(at, 1) === undefined ? space.sectionAt(at) : undefined;
    if (section) {
      // Zero fill (a directory claiming far more than the file holds) holds only empty
      // entries, which are skipped: jump to the last entry that may reach past it instead of
      // reading up to a million zeros.
      const last = Math.floor((section.virtualAddress + virtualExtent(section) - dir.virtualAddress) / entrySize);
      if (last > i) {
        i = last - 1;
        continue;
      }
    }
    const begin = space.u32(at);
    const second = space.u32(at + 4);
    const third = isX64 ? space.u32(at + 8) : 0;
    if (begin === undefined || second === undefined || third === undefined) {
      space.log.add('EXCEPTION_TABLE_MALFORMED', `exception directory entry ${i} at RVA ${hex(at)} is outside the image`);
      break;
    }
    if (begin === 0 && second === 0) continue;
    out.push(isX64 ? { beginRva: begin, endRva: second, unwindData: third } : { beginRva: begin, unwindData: second });
  }
  return out;
}
