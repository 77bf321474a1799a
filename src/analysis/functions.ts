/**
 * Function discovery. x64: .pdata RUNTIME_FUNCTIONs (chained fragments folded into their
 * parent), plus the entry point and exports when no entry covers them. x86 has no .pdata:
 * recursive descent from the entry point, exports and every direct call target, with
 * relocated code pointers (callbacks, dispatch routines, jump-table cases) as weaker seeds.
 *
 * Bytes the data directories point at (`image.dataRanges`: import tables, IAT, exports,
 * debug records … — old linkers put them in INIT or .text) are never code: no descent enters
 * them and no sweep starts there. x64 leaf functions without .pdata are found by sweeping the
 * gaps between .pdata entries; such a function has source 'sweep' and counts as code only
 * once something reached calls or references it (reachability.ts).
 */
import { isExecutable, type PeImage } from '../pe/index.js';
import type { FlowInsn, Insn, InstructionReader } from './decoder.js';
import { codeSpan, RvaTable } from './rva-table.js';

export interface CodeFunction {
  /** RVA of the first instruction. */
  start: number;
  /** Code ranges [begin, end), sorted; x64: the .pdata entry and its chained fragments. */
  ranges: Array<{ begin: number; end: number }>;
  /** Export name, when the function is exported. */
  name?: string;
  /**
   * Why we believe this is a function. 'sweep': x64 bytes between .pdata entries that decode
   * as code — a leaf function, or data in a code section; reachability.ts tells which.
   */
  source: 'pdata' | 'entry' | 'export' | 'call' | 'pointer' | 'sweep';
  /** Found by recursive descent (x86, x64 leaf functions): instruction RVAs in address order. */
  instructionRvas?: number[];
}

/** How a function is named in evidence: its export name or `sub_<rva>`. */
export function functionName(fn: CodeFunction): string {
  return fn.name ?? `sub_${fn.start.toString(16)}`;
}

const UNW_FLAG_CHAININFO = 0x4;
const ARM64 = 0xaa64;
const ARM64_NOP = 0xd503201f;
/** Bound for hostile input: unwind chain depth (descent limits are in budget.ts). */
const MAX_CHAIN = 32;


export class FunctionIndex {
  /** Flattened ranges sorted by begin, each pointing at its function. */
  private readonly sorted: Array<{ begin: number; end: number; fn: CodeFunction }>;
  private readonly byStart = new Map<number, CodeFunction>();

  constructor(
    readonly functions: readonly CodeFunction[],
    /** Set when discovery stopped at a limit: code past it was not analysed (reported as incomplete). */
    readonly truncated?: string,
  ) {
    this.sorted = functions
      .flatMap((fn) => fn.ranges.map((r) => ({ begin: r.begin, end: r.end, fn })))
      .sort((a, b) => a.begin - b.begin || b.end - a.end);
    for (const fn of functions) this.byStart.set(fn.start, fn);
  }

  /** The function starting exactly at `rva`. */
  at(rva: number): CodeFunction | undefined {
    return this.byStart.get(rva);
  }

  /** The function whose code contains `rva` (the innermost one when ranges nest). */
  containing(rva: number): CodeFunction | undefined {
    let lo = 0;
    let hi = this.sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.sorted[mid] as { begin: number }).begin <= rva) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Ranges rarely overlap; look back a few entries for one that still covers rva.
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const r = this.sorted[i] as { begin: number; end: number; fn: CodeFunction };
      if (rva >= r.begin && rva < r.end) return r.fn;
    }
    return undefined;
  }
}

function exportNames(image: PeImage): Map<number, string> {
  const names = new Map<number, string>();
  for (const s of image.exports?.symbols ?? []) {
    if (s.rva !== undefined && s.name !== undefined && !names.has(s.rva)) names.set(s.rva, s.name);
  }
  return names;
}

/** An executable section's byte that no data directory claims. */
function isCode(image: PeImage, rva: number): boolean {
  const s = image.space.sectionAt(rva);
  return s !== undefined && isExecutable(s) && !image.dataRanges.contains(rva);
}

/** x64: one function per root RUNTIME_FUNCTION; chained entries add ranges to their root. */
export function discoverX64Functions(image: PeImage, reader: InstructionReader): FunctionIndex {
  // Images linked without unwind data (lld without -funwind-tables, hand-made drivers): descend.
  if (image.exceptionTable.length === 0) return discoverByDescent(image, reader);
  const space = image.space;
  const roots = new Map<number, CodeFunction>();
  const names = exportNames(image);
  const rootOf = (begin: number, unwind: number): number => {
    let root = begin;
    let info = unwind;
    for (let depth = 0; depth < MAX_CHAIN; depth++) {
      const head = space.u32(info);
      if (head === undefined) break;
      const flags = (head & 0xff) >> 3;
      if ((flags & UNW_FLAG_CHAININFO) === 0) break;
      const count = (head >> 16) & 0xff;
      const chained = info + 4 + 2 * ((count + 1) & ~1);
      const parentBegin = space.u32(chained);
      const parentUnwind = space.u32(chained + 8);
      if (parentBegin === undefined || parentUnwind === undefined || parentBegin === root) break;
      root = parentBegin;
      info = parentUnwind;
    }
    return root;
  };
  for (const rf of image.exceptionTable) {
    const end = rf.endRva ?? rf.beginRva;
    if (end <= rf.beginRva || end - rf.beginRva > 0x1000000 || image.dataRanges.contains(rf.beginRva)) continue;
    const root = rootOf(rf.beginRva, rf.unwindData);
    let fn = roots.get(root);
    if (!fn) {
      fn = { start: root, ranges: [], source: 'pdata' };
      const name = names.get(root);
      if (name !== undefined) fn.name = name;
      roots.set(root, fn);
    }
    fn.ranges.push({ begin: rf.beginRva, end });
  }
  const functions = [...roots.values()];
  for (const fn of functions) fn.ranges.sort((a, b) => a.begin - b.begin);
  const covered = new FunctionIndex(functions);
  // Leaf functions (no stack frame, e.g. `mov r8d, tag; jmp [iat]` wrappers) have no
  // .pdata entry: sweep the gaps between entries and descend from each piece of code there.
  const extra = leafFunctionsInGaps(image, reader, functions, names, (t) => covered.containing(t) !== undefined);
  return extra.length === 0 ? covered : new FunctionIndex([...functions, ...extra]);
}

/**
 * ARM64: one function per .pdata entry. The length is in the entry itself for packed unwind
 * data (Flag, the low two bits, non-zero: FunctionLength in bits 2–12, in 4-byte units), else
 * in the first word of the .xdata record it points at (bits 0–17, in 4-byte units). Leaf
 * functions without an entry are found by sweeping the gaps, as on x64.
 */
export function discoverArm64Functions(image: PeImage, reader: InstructionReader): FunctionIndex {
  if (image.exceptionTable.length === 0) return discoverByDescent(image, reader);
  const names = exportNames(image);
  const byStart = new Map<number, CodeFunction>();
  for (const rf of image.exceptionTable) {
    const flag = rf.unwindData & 3;
    const units = flag !== 0 ? (rf.unwindData >>> 2) & 0x7ff : (image.space.u32(rf.unwindData) ?? 0) & 0x3ffff;
    const end = rf.beginRva + units * 4;
    if (units === 0 || (rf.beginRva & 3) !== 0 || image.dataRanges.contains(rf.beginRva) || !isCode(image, rf.beginRva)) continue;
    if (byStart.has(rf.beginRva)) continue;
    const fn: CodeFunction = { start: rf.beginRva, ranges: [{ begin: rf.beginRva, end }], source: 'pdata' };
    const name = names.get(rf.beginRva);
    if (name !== undefined) fn.name = name;
    byStart.set(rf.beginRva, fn);
  }
  const functions = [...byStart.values()];
  const covered = new FunctionIndex(functions);
  const extra = leafFunctionsInGaps(image, reader, functions, names, (t) => covered.containing(t) !== undefined);
  return extra.length === 0 ? covered : new FunctionIndex([...functions, ...extra]);
}

const MAX_GAP_SWEEP = 0x100000;

function leafFunctionsInGaps(
  image: PeImage,
  reader: InstructionReader,
  functions: readonly CodeFunction[],
  names: ReadonlyMap<number, string>,
  isCovered: (rva: number) => boolean,
): CodeFunction[] {
  // Data-directory ranges are not gaps: nothing there is swept.
  const ranges = [...functions.flatMap((f) => f.ranges), ...image.dataRanges.ranges].sort((x, y) => x.begin - y.begin);
  const out: CodeFunction[] = [];
  let budget = MAX_GAP_SWEEP;
  for (const section of image.sections) {
    if (!isExecutable(section)) continue;
    const sBegin = section.virtualAddress;
    const sEnd = sBegin + Math.min(section.virtualSize || section.sizeOfRawData, section.sizeOfRawData || section.virtualSize);
    const gaps: Array<[number, number]> = [];
    let cursor = sBegin;
    for (const r of ranges) {
      if (r.end <= sBegin || r.begin >= sEnd) continue;
      if (r.begin > cursor) gaps.push([cursor, r.begin]);
      cursor = Math.max(cursor, r.end);
    }
    if (cursor < sEnd) gaps.push([cursor, sEnd]);
    for (const [gBegin, gEnd] of gaps) {
      let pos = gBegin;
      while (pos < gEnd && budget > 0) {
        const insn = reader.flowAt(pos);
        if (!insn) break;
        budget -= insn.length;
        // Padding between functions: int3, nop (any length), zero bytes.
        const bytes = image.space.bytesAt(pos, 1);
        if (insn.flow === 'invalid' || insn.flow === 'interrupt' || (image.machine !== ARM64 && bytes?.[0] === 0x00) || isNop(image, pos, insn.length)) {
          pos += insn.length;
          continue;
        }
        const source = names.has(pos) ? 'export' : pos === image.optionalHeader.addressOfEntryPoint ? 'entry' : 'sweep';
        const fn = descendOne(image, reader, pos, source, names.get(pos), (t) => t < gBegin || t >= gEnd || isCovered(t));
        if (!fn) {
          pos += insn.length;
          continue;
        }
        out.push(fn);
        const last = fn.ranges[fn.ranges.length - 1];
        pos = Math.max(pos + insn.length, last ? last.end : pos + insn.length);
      }
    }
  }
  return out;
}

/** nop, xchg ax,ax and the multi-byte 0F 1F forms compilers pad with; ARM64 nop. */
function isNop(image: PeImage, rva: number, length: number): boolean {
  const b = image.space.bytesAt(rva, length);
  if (!b || b.length === 0) return false;
  if (image.machine === ARM64) return image.space.u32(rva) === ARM64_NOP;
  let i = 0;
  while (i < b.length && (b[i] === 0x66 || b[i] === 0x2e)) i++;
  return b[i] === 0x90 || (b[i] === 0x0f && b[i + 1] === 0x1f);
}

/** Recursive descent of one function; `stopAt` marks code that belongs to someone else. */
function descendOne(
  image: PeImage,
  reader: InstructionReader,
  start: number,
  source: CodeFunction['source'],
  name: string | undefined,
  stopAt: (rva: number) => boolean,
): CodeFunction | undefined {
  const seen = new Map<number, FlowInsn>();
  const work = [start];
  while (work.length > 0 && seen.size < 100_000) {
    let rva = work.pop() as number;
    while (!seen.has(rva) && isCode(image, rva) && (rva === start || !stopAt(rva)) && seen.size < 100_000) {
      const insn = reader.flowAt(rva);
      if (!insn || insn.flow === 'invalid') break;
      seen.set(rva, insn);
      if ((insn.flow === 'jcc' || insn.flow === 'jmp') && insn.target !== undefined) work.push(insn.target);
      if (!fallsThrough(insn)) break;
      rva += insn.length;
    }
  }
  if (seen.size === 0) return undefined;
  const instructions = [...seen.values()].sort((a, b) => a.rva - b.rva);
  const fn: CodeFunction = { start, ranges: toRanges(instructions), source, instructionRvas: instructions.map((i) => i.rva) };
  if (name !== undefined) fn.name = name;
  return fn;
}

export function branchTarget(insn: Insn): number | undefined {
  const op = insn.operands[0];
  return op?.kind === 'branch' ? op.target : undefined;
}

export function fallsThrough(insn: { flow: Insn['flow'] }): boolean {
  return insn.flow === 'next' || insn.flow === 'jcc' || insn.flow === 'call' || insn.flow === 'call-indirect';
}

function toRanges(instructions: ReadonlyArray<{ rva: number; length: number }>): Array<{ begin: number; end: number }> {
  const ranges: Array<{ begin: number; end: number }> = [];
  for (const insn of instructions) {
    const last = ranges[ranges.length - 1];
    if (last && last.end === insn.rva) last.end = insn.rva + insn.length;
    else ranges.push({ begin: insn.rva, end: insn.rva + insn.length });
  }
  return ranges;
}

/**
 * x86 (and x64 images without .pdata): global recursive descent, then ownership. Pass 1 decodes everything reachable from
 * the entry point, exports, direct call targets and relocated code pointers. Pass 2 hands
 * each instruction to the function that reaches it first, in the order call targets
 * first, pointers last; a jump to another function's start is a tail call, not a merge.
 */
export function discoverByDescent(image: PeImage, reader: InstructionReader): FunctionIndex {
  const names = exportNames(image);
  const strong = new Map<number, CodeFunction['source']>();
  const addStrong = (rva: number, source: CodeFunction['source']) => {
    if (!strong.has(rva) && isCode(image, rva)) strong.set(rva, source);
  };
  addStrong(image.optionalHeader.addressOfEntryPoint, 'entry');
  for (const rva of names.keys()) addStrong(rva, 'export');
  const weak = relocatedCodePointers(image);

  const { descentInstructions, descentFunctions } = reader.limits;
  const [lo, hi] = codeSpan(image);
  const decoded = new RvaTable<FlowInsn>(lo, hi);
  const work: number[] = [...strong.keys(), ...weak];
  while (work.length > 0 && decoded.size < descentInstructions) {
    let rva = work.pop() as number;
    // The limit is checked per instruction: one straight run can be the whole section.
    while (!decoded.has(rva) && isCode(image, rva) && decoded.size < descentInstructions) {
      const insn = reader.flowAt(rva);
      if (!insn || insn.flow === 'invalid') break;
      decoded.set(rva, insn);
      const target = insn.target;
      if (target !== undefined && isCode(image, target)) {
        if (insn.flow === 'call') addStrong(target, 'call');
        if (insn.flow === 'call' || insn.flow === 'jcc' || insn.flow === 'jmp') work.push(target);
      }
      if (!fallsThrough(insn)) break;
      rva += insn.length;
    }
  }

  const owner = new RvaTable<CodeFunction>(lo, hi);
  const functions: CodeFunction[] = [];
  const claim = (start: number, source: CodeFunction['source']) => {
    if (owner.has(start) || !decoded.has(start)) return;
    const fn: CodeFunction = { start, ranges: [], source };
    const name = names.get(start);
    if (name !== undefined) fn.name = name;
    const mine: FlowInsn[] = [];
    const stack = [start];
    while (stack.length > 0) {
      let rva = stack.pop() as number;
      for (;;) {
        const insn = decoded.get(rva);
        if (!insn || owner.has(rva) || (rva !== start && strong.has(rva))) break;
        owner.set(rva, fn);
        mine.push(insn);
        if (insn.target !== undefined && (insn.flow === 'jcc' || insn.flow === 'jmp')) stack.push(insn.target);
        if (!fallsThrough(insn)) break;
        rva += insn.length;
      }
    }
    mine.sort((a, b) => a.rva - b.rva);
    fn.instructionRvas = mine.map((i) => i.rva);
    fn.ranges = toRanges(mine);
    functions.push(fn);
  };
  for (const [rva, source] of strong) {
    if (functions.length >= descentFunctions) break;
    claim(rva, source);
  }
  for (const rva of weak) {
    if (functions.length >= descentFunctions) break;
    claim(rva, 'pointer');
  }
  const truncated =
    decoded.size >= descentInstructions
      ? `function discovery stopped after ${descentInstructions.toLocaleString('en-US')} instructions`
      : functions.length >= descentFunctions
        ? `function discovery stopped after ${descentFunctions.toLocaleString('en-US')} functions`
        : undefined;
  return new FunctionIndex(functions, truncated);
}

/** Targets of HIGHLOW / DIR64 relocations that point into executable sections. */
function relocatedCodePointers(image: PeImage): number[] {
  const base = image.optionalHeader.imageBase;
  const out: number[] = [];
  for (const r of image.baseRelocations.entries) {
    if (r.type !== 3 && r.type !== 10) continue;
    const value = r.type === 3 ? BigInt(image.space.u32(r.rva) ?? 0) : image.space.u64(r.rva);
    if (value === undefined || value <= base) continue;
    const target = Number(value - base);
    if (target < 0x100000000 && isCode(image, target)) out.push(target);
  }
  return out;
}
