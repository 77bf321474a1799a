/**
 * Which discovered functions are code that runs, for the instruction rules (cr0-write,
 * cr4-write, msr-write, self-modifying-code). Those rules look at single instructions, and
 * any run of data bytes decodes as some instruction — so they report only from code reached
 * from the entry point, an export, a .pdata function or a call, never from a linear sweep.
 *
 *   pdata, entry, export, call   reached (the linker or the descent vouches for them)
 *   pointer (x86)                reached: a base relocation holds its address, so something
 *                                takes it (a callback, a dispatch routine, a jump-table case)
 *   sweep (x64/ARM64 gap code)   reached only when a reached function calls or jumps to its
 *                                start (rel32; ARM64 b/bl), or takes its address (RIP-relative
 *                                lea/mov; ARM64 adrp+add, adr), or a relocated pointer outside
 *                                code holds it
 */
import { isExecutable } from '../pe/index.js';
import type { CodeModel } from './code-model.js';
import type { CodeFunction } from './functions.js';
import { scanArm64References } from './arm64/scan.js';

/** How many sweep functions deep a chain of references is followed. */
const MAX_DEPTH = 4;

const cache = new WeakMap<CodeModel, Map<number, boolean>>();

export function isReached(model: CodeModel, fn: CodeFunction): boolean {
  return reached(model, fn, 0, new Set());
}

function reached(model: CodeModel, fn: CodeFunction, depth: number, visiting: Set<number>): boolean {
  if (fn.source !== 'sweep') return true;
  let known = cache.get(model);
  if (!known) cache.set(model, (known = new Map()));
  const cached = known.get(fn.start);
  if (cached !== undefined) return cached;
  if (depth >= MAX_DEPTH || visiting.has(fn.start)) return false;
  visiting.add(fn.start);
  const answer = referencedByReachedCode(model, fn.start, depth, visiting) || relocatedPointerOutsideCode(model, fn.start);
  visiting.delete(fn.start);
  known.set(fn.start, answer);
  return answer;
}

/**
 * Where each sweep function's start is named in code: a byte scan for rel32 branches (E8 call,
 * E9 jmp, 0F 8x jcc) and x64 RIP-relative operands (ModRM mod=00 rm=101), done once per
 * image for all sweep functions together (one scan per function was quadratic: a fuzzed DLL
 * with thousands of gap functions took 7 s). Candidates are instruction starts, in scan order,
 * still to be confirmed with the decoder.
 */
function candidateReferences(model: CodeModel): Map<number, number[]> {
  let refs = referenceCache.get(model);
  if (refs) return refs;
  refs = new Map();
  const sweepStarts = new Set(model.functions.functions.filter((f) => f.source === 'sweep').map((f) => f.start));
  const add = (target: number, starts: number[]) => {
    if (!sweepStarts.has(target)) return;
    const list = (refs as Map<number, number[]>).get(target);
    if (list) list.push(...starts);
    else (refs as Map<number, number[]>).set(target, [...starts]);
  };
  if (sweepStarts.size > 0 && model.arch === 'arm64') {
    // ARM64: b/bl/b.cond/cbz/tbz targets and adrp+add/adr addresses (arm64/scan.ts).
    scanArm64References(model.codeSections(), (at, target) => add(target, [at]));
  } else if (sweepStarts.size > 0) {
    for (const { rva, bytes } of model.codeSections()) {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i + 5 <= bytes.length; i++) {
        const b = bytes[i] as number;
        if (b === 0xe8 || b === 0xe9) add(rva + i + 5 + dv.getInt32(i + 1, true), [rva + i]);
        else if (b === 0x0f && i + 6 <= bytes.length && ((bytes[i + 1] as number) & 0xf0) === 0x80) add(rva + i + 6 + dv.getInt32(i + 2, true), [rva + i]);
        else if (model.bitness === 64 && (b & 0xc7) === 0x05) {
          // The displacement is relative to the end of the instruction: an immediate may follow.
          const named = rva + i + 5 + dv.getInt32(i + 1, true);
          for (let k = 0; k <= 4; k++) add(named + k, [rva + i - 1, rva + i - 2, rva + i - 3, rva + i - 4]);
        }
      }
    }
  }
  referenceCache.set(model, refs);
  return refs;
}

const referenceCache = new WeakMap<CodeModel, Map<number, number[]>>();

function referencedByReachedCode(model: CodeModel, target: number, depth: number, visiting: Set<number>): boolean {
  for (const start of candidateReferences(model).get(target) ?? []) if (confirmedReference(model, start, target, depth, visiting)) return true;
  return false;
}

function confirmedReference(model: CodeModel, start: number, target: number, depth: number, visiting: Set<number>): boolean {
  const fn = model.functions.containing(start);
  if (!fn || fn.start === target) return false;
  const code = model.code(fn);
  const index = code.indexOf.get(start);
  const insn = index === undefined ? undefined : code.insns[index];
  if (!insn) return false;
  const names = insn.operands.some((op) => (op.kind === 'branch' && op.target === target) || (op.kind === 'mem' && op.target === target));
  return names && reached(model, fn, depth + 1, visiting);
}

/** A DIR64/HIGHLOW relocation in a non-executable section whose pointer is `target`. */
function relocatedPointerOutsideCode(model: CodeModel, target: number): boolean {
  let targets = pointerCache.get(model);
  if (!targets) {
    targets = new Set();
    const image = model.image;
    const base = model.imageBase;
    for (const r of image.baseRelocations.entries) {
      if (r.type !== 3 && r.type !== 10) continue;
      const section = image.space.sectionAt(r.rva);
      if (!section || isExecutable(section)) continue;
      const value = r.type === 3 ? BigInt(image.space.u32(r.rva) ?? 0) : image.space.u64(r.rva);
      if (value !== undefined && value >= base && value - base < 0x100000000n) targets.add(Number(value - base));
    }
    pointerCache.set(model, targets);
  }
  return targets.has(target);
}

const pointerCache = new WeakMap<CodeModel, Set<number>>();
