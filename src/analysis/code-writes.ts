/**
 * Stores into the image's own code (rule book §8 self-modifying-code): an instruction whose
 * memory destination is an RVA in an executable, non-writable section — `mov byte ptr
 * [rip+func], 0xC3`, or `lea rax, [func]; mov byte ptr [rax], 0xC3`. Compilers never write
 * to code, so such a store is a patch (it needs CR0.WP cleared or a writable alias, and under
 * HVCI code pages are never writable). Sections that are writable and executable are left to
 * execute-write-section: a store there may be ordinary data in a merged section.
 *
 * Functions worth decoding are found by a byte scan for instructions that name a code
 * address: a store with a fixed address (store opcode, ModRM mod=00 rm=101: x64 [rip+disp32],
 * x86 [disp32]) or an instruction that takes a code address into a register (x64 `lea r,
 * [rip+disp32]`; x86 `lea r, [disp32]`, `mov r, imm32`, `push imm32`). In those functions every
 * store is checked, its destination resolved by backward data flow. On x86 the HIGHLOW base
 * relocations in code point at every absolute code address (`mov [esp+8], offset func` too).
 */
import { IMAGE_REL_BASED_HIGHLOW, isExecutable, isWritable, type Section } from '../pe/index.js';
import { memorySources } from './call-targets.js';
import { scanArm64References } from './arm64/scan.js';
import type { CodeModel } from './code-model.js';
import { BP, type Insn, type MemoryOperand, registerFamily, SP } from './decoder.js';
import { type CodeFunction, functionName } from './functions.js';
import type { PrivilegedWrite } from './privileged-writes.js';
import { isReached } from './reachability.js';

export interface CodeWrite extends PrivilegedWrite {
  targetRva: number;
  targetSection: string;
  /** The function the target lies in, when one does. */
  targetFunction?: string;
}

/** One-byte opcodes that may write their r/m operand (ModRM follows). */
const STORE_OPCODES = new Set([
  0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x86, 0x87, 0x88, 0x89, 0x80, 0x81, 0x83,
  0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff,
]);
/** Two-byte (0F xx) opcodes that write their r/m operand. */
const STORE_OPCODES_0F = new Set([0x11, 0x29, 0x7f, 0xab, 0xb0, 0xb1, 0xb3, 0xba, 0xbb, 0xc0, 0xc1, 0xd6, 0xe7]);
/** Mnemonics (iced, lower case) that write their first operand. */
const WRITES = new Set([
  'stp',
  'mov', 'add', 'sub', 'and', 'or', 'xor', 'adc', 'sbb', 'inc', 'dec', 'not', 'neg', 'xchg', 'cmpxchg', 'xadd', 'bts', 'btr', 'btc',
  'shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'movups', 'movaps', 'movdqa', 'movdqu', 'movq', 'movd', 'movntdq', 'movnti',
]);
const LEA = 0x8d;
const PUSH_IMM32 = 0x68;
/** Bytes after a code address is taken within which a store through a register must follow. */
const WINDOW = 96;
/** Instructions examined backwards per store destination. */
const STORE_BUDGET = 200;

export function findCodeWrites(model: CodeModel): CodeWrite[] {
  const readOnlyCode = model.image.sections.filter((s) => isExecutable(s) && !isWritable(s));
  if (readOnlyCode.length === 0) return [];
  const sectionOf = (rva: number): Section | undefined =>
    readOnlyCode.find((s) => rva >= s.virtualAddress && rva < s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData));
  const out: CodeWrite[] = [];
  const isCode = (rva: number): boolean => sectionOf(rva) !== undefined;
  for (const fn of candidateFunctions(model, isCode)) {
    const code = model.code(fn);
    const holders = codeAddressHolders(model, code.insns, isCode);
    code.insns.forEach((insn, index) => {
      const dst = insn.operands[0];
      if (!WRITES.has(insn.mnemonic) || dst?.kind !== 'mem') return;
      let targets: number[];
      if (dst.target !== undefined) targets = [dst.target];
      else {
        const base = dst.base !== undefined ? registerFamily(dst.base) : -1;
        // Locals, and registers no instruction of the function loads a code address into.
        if (base === SP || base === BP || !holders.has(base)) return;
        // A small budget: a code address reaches a store through a few moves, not a long path.
        targets = memorySources(model, code, index, dst, STORE_BUDGET).flatMap((s) => (s.kind === 'memory' ? [s.rva] : []));
      }
      const targetRva = targets.find((t) => sectionOf(t) !== undefined);
      if (targetRva === undefined) return;
      out.push(describe(model, fn, code.insns, index, insn, targetRva, sectionOf(targetRva) as Section));
    });
  }
  return out.sort((a, b) => a.rva - b.rva);
}

function describe(model: CodeModel, fn: CodeFunction, insns: Insn[], index: number, insn: Insn, targetRva: number, section: Section): CodeWrite {
  const target = model.functions.containing(targetRva);
  const write: CodeWrite = {
    rva: insn.rva,
    function: functionName(fn),
    functionRva: fn.start,
    text: model.format(insn.rva),
    context: insns.slice(Math.max(0, index - 4), index).map((b) => ({ rva: b.rva, text: model.format(b.rva) })),
    targetRva,
    targetSection: section.name,
  };
  if (target) write.targetFunction = functionName(target);
  return write;
}

/**
 * Registers that may hold a code address somewhere in the function: a flow-insensitive
 * over-approximation (lea of a code address, x86 mov of one, copies through registers and
 * memory slots), so that only stores through such registers get the (costly) backward walk.
 */
function codeAddressHolders(model: CodeModel, insns: readonly Insn[], isCode: (rva: number) => boolean): Set<number> {
  const base = model.imageBase;
  const regs = new Set<number>();
  const slots = new Set<string>();
  const slotKey = (m: MemoryOperand): string => `${m.base ?? ''}|${m.index ?? ''}|${m.scale}|${m.disp}|${m.target ?? ''}`;
  for (let round = 0, changed = true; changed && round < 4; round++) {
    changed = false;
    for (const insn of insns) {
      if (insn.mnemonic !== 'mov' && insn.mnemonic !== 'lea') continue;
      const [dst, src] = insn.operands;
      const tainted =
        insn.mnemonic === 'lea'
          ? src?.kind === 'mem' && src.target !== undefined && isCode(src.target)
          : src?.kind === 'imm'
            ? src.value >= base && isCode(Number(src.value - base))
            : src?.kind === 'reg'
              ? regs.has(registerFamily(src.reg))
              : src?.kind === 'mem' && slots.has(slotKey(src));
      if (!tainted) continue;
      if (dst?.kind === 'reg' && registerFamily(dst.reg) >= 0 && !regs.has(registerFamily(dst.reg))) {
        regs.add(registerFamily(dst.reg));
        changed = true;
      } else if (dst?.kind === 'mem' && !slots.has(slotKey(dst))) {
        slots.add(slotKey(dst));
        changed = true;
      }
    }
  }
  return regs;
}

/**
 * Functions worth decoding: those with a store to a fixed code address, or that take a code
 * address into a register or local and have a store through a register within the next
 * WINDOW bytes (a cheap byte test that keeps callback registrations, SEH handler pushes and
 * jump tables from pulling in every function).
 */
function candidateFunctions(model: CodeModel, isCode: (rva: number) => boolean): CodeFunction[] {
  const found = new Map<number, CodeFunction>();
  // Only reached code (reachability.ts), never bytes a data directory claims: import lookup
  // entries in INIT such as e0 28 05 00 … decode as `sub byte ptr [rip+0], al`.
  const add = (at: number): void => {
    if (model.image.dataRanges.contains(at)) return;
    const fn = model.functions.containing(at);
    if (fn && !found.has(fn.start) && isReached(model, fn)) found.set(fn.start, fn);
  };
  if (model.arch === 'arm64') {
    // As on x64: a store to a code address (adrp + str), or a code address taken into a register
    // (adrp + add, adr) with a store through that register soon after. Loads of code (literal
    // pools, adrp + ldr) and addresses only passed on (callbacks) do not make a function a candidate.
    // One view per section, made once: a word is read up to 25 times per code address named.
    const sections = model.codeSections().map((x) => ({ rva: x.rva, end: x.rva + x.bytes.length, view: new DataView(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength) }));
    const wordAt = (rva: number): number | undefined => {
      const sec = sections.find((x) => rva >= x.rva && rva + 4 <= x.end);
      return sec ? sec.view.getUint32(rva - sec.rva, true) : undefined;
    };
    scanArm64References(model.codeSections(), (at, target, kind) => {
      if (kind !== 'address' || !isCode(target)) return;
      const w = wordAt(at);
      if (w === undefined) return;
      if (isA64Store(w)) add(at);
      else if (takesA64Address(w)) {
        for (let k = 1; k <= WINDOW / 4; k++) {
          const next = wordAt(at + 4 * k);
          if (next === undefined) break;
          if (isA64Store(next) && ((next >>> 5) & 31) === (w & 31)) {
            add(at);
            break;
          }
        }
      }
    });
    return [...found.values()];
  }
  const base = Number(model.imageBase);
  const sections = model.codeSections();
  const storeSoonAfter = (at: number, register?: number): boolean => {
    const sec = sections.find((x) => at >= x.rva && at < x.rva + x.bytes.length);
    if (!sec) return false;
    const from = at - sec.rva;
    const to = Math.min(sec.bytes.length - 1, from + WINDOW);
    for (let j = from; j < to; j++) {
      if (!STORE_OPCODES.has(sec.bytes[j] as number)) continue;
      const m = sec.bytes[j + 1] as number;
      const rm = m & 7;
      if (m >> 6 === 3 || rm === 4 || rm === 5) continue; // register form, SIB/stack, disp32
      if (register === undefined || rm === register) return true;
    }
    return false;
  };
  // x86: every absolute address in code carries a HIGHLOW base relocation (not pushes: a pushed
  // handler address is not stored through).
  if (model.bitness === 32) {
    for (const r of model.image.baseRelocations.entries) {
      if (r.type !== IMAGE_REL_BASED_HIGHLOW) continue;
      const value = model.image.space.u32(r.rva);
      if (value === undefined || !isCode(value - base) || model.image.space.bytesAt(r.rva - 1, 1)?.[0] === PUSH_IMM32) continue;
      if (storeSoonAfter(r.rva + 4)) add(r.rva);
    }
  }
  for (const { rva, bytes } of sections) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 1; i + 5 <= bytes.length; i++) {
      const modrm = bytes[i] as number;
      if ((modrm & 0xc7) !== 0x05) continue;
      const op = bytes[i - 1] as number;
      const store = STORE_OPCODES.has(op) || (i >= 2 && bytes[i - 2] === 0x0f && STORE_OPCODES_0F.has(op));
      if (!store && op !== LEA) continue;
      // The address: x64 relative to the next instruction, which an immediate of up to four
      // bytes may push further (the decoder gives the exact target later); x86 absolute.
      const disp = dv.getInt32(i + 1, true);
      const named = model.bitness === 64 ? rva + i + 5 + disp : disp - base;
      if (!isCode(named) && !isCode(named + 4)) continue;
      if (store || storeSoonAfter(rva + i + 5, (modrm >> 3) & 7)) add(rva + i);
    }
  }
  return [...found.values()];
}

/** An A64 store (str/strb/strh/stur, pre/post-index, register offset, stp; integer or vector). */
function isA64Store(w: number): boolean {
  const load = (w & 0x00400000) !== 0; // bit 22: L (pairs) / opc<0> (single registers)
  if (load) return false;
  return (w & 0x3b000000) === 0x39000000 || (w & 0x3b000000) === 0x38000000 || (w & 0x3a000000) === 0x28000000;
}

/** `add xd, xn, #imm` or `adr xd, label`: an address into register xd (its number in bits 0-4). */
function takesA64Address(w: number): boolean {
  return ((w & 0xff000000) >>> 0) === 0x91000000 || ((w & 0x9f000000) >>> 0) === 0x10000000;
}
