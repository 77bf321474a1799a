/**
 * MmGetSystemRoutineAddress(PUNICODE_STRING): a driver can resolve an API by name at run
 * time, and its calls then bypass the import table (rule book §9 dynamic-routine-lookup).
 * Recover the name at each call: a UNICODE_STRING in the image (lea rcx, [name]), a local
 * filled by RtlInitUnicodeString(&local, L"...") earlier in the same function, or a local
 * built field by field (RTL_CONSTANT_STRING: Length/MaximumLength, then Buffer one pointer
 * further on). A name that cannot be recovered is said so (`unresolved`), not dropped.
 */
import { API_TABLE } from './api-table.js';
import { findImportCallSites } from './call-sites.js';
import type { CodeModel, FunctionCode } from './code-model.js';
import { argumentLocation, resolveBefore, type Value } from './dataflow.js';
import { ARM64_X0, BP, registerFamily, SP } from './decoder.js';
import { functionName } from './functions.js';
import { hex } from '../pe/index.js';

export interface RoutineLookup {
  callRva: number;
  fileOffset?: number;
  function: string;
  functionRva: number;
  /** The routine name, when recovered. */
  name?: string;
  /** RVA of the UTF-16 name in the image. */
  nameRva?: number;
  /** The name is an API of the §2 table (can return executable memory). */
  affected: boolean;
  /** Why the name was not recovered (set exactly when `name` is not). */
  unresolved?: string;
}

/** APIs whose arguments can ask for executable memory (class N APIs cannot). */
const AFFECTED = new Set(API_TABLE.filter((s) => s.cls !== 'N').map((s) => s.name));

const cache = new WeakMap<CodeModel, RoutineLookup[]>();

/** The MmGetSystemRoutineAddress calls of the image, with the names looked up (cached per model). */
export function findRoutineLookups(model: CodeModel): RoutineLookup[] {
  let lookups = cache.get(model);
  if (!lookups) {
    lookups = [...model.importSlots.values()].some((s) => s.name === 'MmGetSystemRoutineAddress') ? lookupsOf(model) : [];
    cache.set(model, lookups);
  }
  return lookups;
}

function lookupsOf(model: CodeModel): RoutineLookup[] {
  const sites = findImportCallSites(model, { apis: new Set(['MmGetSystemRoutineAddress', 'RtlInitUnicodeString']) });
  const out: RoutineLookup[] = [];
  for (const site of sites) {
    if (site.slot.name !== 'MmGetSystemRoutineAddress') continue;
    const code = model.code(site.fn);
    const index = code.indexOf.get(site.callRva);
    const lookup: RoutineLookup = { callRva: site.callRva, function: functionName(site.fn), functionRva: site.fn.start, affected: false };
    const off = model.fileOffset(site.callRva);
    if (off !== undefined) lookup.fileOffset = off;
    if (index !== undefined) {
      let named: { name: string; rva: number } | undefined;
      const args = resolveBefore(model, code, index, argumentLocation(model.arch, 1));
      for (const v of args) {
        if (v.origin.kind === 'address') named = readUnicodeString(model, v.origin.rva);
        else named = stackString(model, code, index, v);
        if (named) break;
      }
      lookup.unresolved = args.map(describeArgument).join('; ');
      if (!named) {
        // The nearest RtlInitUnicodeString before the call in the same function supplies the name.
        const init = sites
          .filter((s) => s.slot.name === 'RtlInitUnicodeString' && s.fn.start === site.fn.start && s.callRva < site.callRva)
          .pop();
        const initIndex = init ? code.indexOf.get(init.callRva) : undefined;
        if (initIndex !== undefined) {
          const texts = resolveBefore(model, code, initIndex, argumentLocation(model.arch, 2));
          for (const v of texts) {
            if (v.origin.kind === 'address') named = readWideString(model, v.origin.rva);
            if (named) break;
          }
          if (init) lookup.unresolved = `RtlInitUnicodeString at ${hex(init.callRva)} makes it from ${texts.map(describeText).join(' or ')}`;
        }
      }
      if (named) {
        delete lookup.unresolved;
        lookup.name = named.name;
        lookup.nameRva = named.rva;
        lookup.affected = AFFECTED.has(named.name);
      }
    } else {
      lookup.unresolved = 'the call instruction was not decoded';
    }
    out.push(lookup);
  }
  return out;
}

/**
 * A UNICODE_STRING in a local: the argument is `lea r, [sp/bp + d]` (or `mov r, esp`), and its
 * Buffer field (d + pointer size) holds the address of the text at the call. The slot is read at
 * the call, so stores made after the `lea` count; on x86 the pushes in between are undone.
 */
function stackString(model: CodeModel, code: FunctionCode, callIndex: number, v: Value): { name: string; rva: number } | undefined {
  if (v.origin.kind !== 'unknown') return undefined;
  // The latest instruction of the value's trace that takes a stack address.
  let i: number | undefined;
  let base = -1;
  let disp = 0;
  for (const at of [...v.trace].reverse()) {
    const j = code.indexOf.get(at);
    const insn = j === undefined ? undefined : code.insns[j];
    const [dst, src] = insn?.operands ?? [];
    if (!insn || dst?.kind !== 'reg') continue;
    if (insn.mnemonic === 'lea' && src?.kind === 'mem' && src.base !== undefined && src.index === undefined) {
      [i, base, disp] = [j, registerFamily(src.base), src.disp];
    } else if (insn.mnemonic === 'mov' && src?.kind === 'reg' && registerFamily(src.reg) === SP) {
      [i, base, disp] = [j, SP, 0];
    } else {
      continue;
    }
    break;
  }
  // Locals are addressed from the stack pointer or the frame pointer (x86 ebp/rbp, ARM64 x29).
  const frame = model.arch === 'arm64' ? ARM64_X0 + 29 : BP;
  if (i === undefined || (base !== SP && base !== frame)) return undefined;
  let delta = 0; // how far the stack pointer moves from the lea to the call
  if (base === SP) {
    for (let j = i + 1; j < callIndex; j++) {
      const x = code.insns[j];
      if (!x || x.flow !== 'next' || code.preds.has(j)) return undefined; // one straight block only
      const op = x.operands[0];
      const imm = x.operands[1];
      if (x.mnemonic === 'push') delta -= op?.kind === 'reg' || op?.kind === 'imm' || op?.kind === 'mem' ? model.pointerSize : 0;
      else if (x.mnemonic === 'pop') delta += model.pointerSize;
      else if (op?.kind === 'reg' && registerFamily(op.reg) === SP) {
        if ((x.mnemonic === 'sub' || x.mnemonic === 'add') && imm?.kind === 'imm') delta += (x.mnemonic === 'add' ? 1 : -1) * Number(imm.value);
        // ARM64 `sub sp, sp, #n` (lea sp, [sp - n] in the analysis form).
        else if (x.mnemonic === 'lea' && imm?.kind === 'mem' && imm.base !== undefined && registerFamily(imm.base) === SP && imm.index === undefined) delta += imm.disp;
        else return undefined;
      } else if (x.writeback !== undefined && x.operands.some((o) => o.kind === 'mem' && o.base !== undefined && registerFamily(o.base) === SP)) {
        delta += x.writeback; // ARM64 pre/post-indexed access through sp
      }
    }
  }
  const ptr = model.pointerSize;
  const slot = { k: 'mem' as const, base, off: disp - delta + ptr, size: ptr };
  const length = resolveBefore(model, code, callIndex, { ...slot, off: disp - delta, size: 2 }, { budget: 400, bytes: 2 });
  const chars = length.length === 1 && length[0]?.origin.kind === 'const' ? Number(length[0].origin.value & 0xffffn) / 2 : 256;
  for (const b of resolveBefore(model, code, callIndex, slot, { budget: 400 })) {
    const o = b.origin;
    const rva = o.kind === 'address' ? o.rva : o.kind === 'const' ? Number(o.value - model.imageBase) : undefined;
    if (rva === undefined || rva <= 0 || rva >= model.image.optionalHeader.sizeOfImage) continue;
    const s = readWideString(model, rva, chars > 0 && chars <= 256 ? chars : 256);
    if (s) return s;
  }
  return undefined;
}

/** Where the text RtlInitUnicodeString copies comes from, when it is not a string in the image. */
function describeText(v: Value): string {
  const o = v.origin;
  return o.kind === 'param' ? `parameter ${o.index} of the function` : o.kind === 'global' ? `a pointer in global ${hex(o.rva)}` : o.kind === 'unknown' ? o.reason : 'text hvci cannot read';
}

function describeArgument(v: Value): string {
  const o = v.origin;
  switch (o.kind) {
    case 'unknown':
      return o.reason;
    case 'global':
      return `the UNICODE_STRING pointer is loaded from global ${hex(o.rva)}`;
    case 'param':
      return `the UNICODE_STRING is parameter ${o.index} of the function`;
    case 'address':
      return `no readable UNICODE_STRING at ${hex(o.rva)}`;
    case 'const':
      return `a constant pointer 0x${o.value.toString(16)}`;
  }
}

/** A UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer; } in the image. */
function readUnicodeString(model: CodeModel, rva: number): { name: string; rva: number } | undefined {
  const space = model.image.space;
  const length = space.u16(rva);
  const buffer = space.pointer(rva + model.pointerSize);
  if (length === undefined || buffer === undefined || length === 0 || length > 512) return undefined;
  const bufRva = Number(buffer - model.imageBase);
  const s = readWideString(model, bufRva, length / 2);
  return s && s.name.length > 0 ? s : undefined;
}

function readWideString(model: CodeModel, rva: number, maxChars = 256): { name: string; rva: number } | undefined {
  const bytes = model.image.space.bytesAt(rva, maxChars * 2);
  if (!bytes) return undefined;
  let name = '';
  for (let i = 0; i + 1 < bytes.length && name.length < maxChars; i += 2) {
    const c = (bytes[i] as number) | ((bytes[i + 1] as number) << 8);
    if (c === 0) break;
    if (c < 0x20 || c > 0x7e) return undefined;
    name += String.fromCharCode(c);
  }
  return name.length > 0 ? { name, rva } : undefined;
}
