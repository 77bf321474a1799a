/**
 * Writes to privileged CPU state that drivers use to patch the kernel (rule book §8):
 *   cr0-write   mov cr0, reg  — 0F 22 /r, ModRM C0..C7 (reg field 0), usually after clearing
 *               WP (bit 16) so read-only pages can be written
 *   cr4-write   mov cr4, reg  — 0F 22 /r, ModRM E0..E7 (reg field 4): SMEP (bit 20) / SMAP
 *               (bit 21) tampering
 *   msr-write   wrmsr         — 0F 30, MSR number in ecx: IA32_LSTAR (0xC0000082) and
 *               IA32_SYSENTER_EIP (0x176) are the system-call entry points hooks replace
 * A REX prefix may precede `mov crN` (41 for r8..r15); REX.R would make it CR8/CR12 (CR8 is
 * the IRQL register, not these rules) — the decoder tells. Candidates are found by a byte
 * scan and confirmed with the decoder inside the function that contains them; that function
 * must be reached code (reachability.ts) and the bytes no data directory's (data-ranges.ts).
 *
 * A CR0 write that clears WP and a later write in the same function that sets it again are
 * one patching sequence: `findControlRegisterWrites` returns the clearing write with the
 * restoring one attached (`restoredBy`), not two writes. The restoring write is the next
 * write of the function when it clears nothing itself (it sets the bits again, or writes back
 * a value saved before the clear).
 */
import type { CodeModel, FunctionCode } from './code-model.js';
import { resolveBefore } from './dataflow.js';
import type { Insn } from './decoder.js';
import { type CodeFunction, functionName } from './functions.js';
import { isReached } from './reachability.js';

export interface PrivilegedWrite {
  rva: number;
  function: string;
  functionRva: number;
  /** "mov cr0, rax", "wrmsr" */
  text: string;
  /** The instructions just before it (mov rax, cr0; and rax, ...), in order. */
  context: Array<{ rva: number; text: string }>;
}

export interface ControlRegisterWrite extends PrivilegedWrite {
  /** Bits the code clears just before the write (`and r, ~mask` or `btr r, n`), as a mask. */
  clearedBits: bigint;
  /** Bits the code sets just before the write (`or r, mask` or `bts r, n`), as a mask. */
  setBits: bigint;
  /** The later write in the same function that undoes this one (sets WP again), when there is one. */
  restoredBy?: PrivilegedWrite & { setBits: bigint };
}

export interface MsrWrite extends PrivilegedWrite {
  /** The MSR numbers ecx may hold (empty when not constant). */
  msrs: bigint[];
}

const CONTEXT = 6;

/** `mov crN, reg` instructions (N = 0 or 4); a clear-then-restore pair of one function is one entry. */
export function findControlRegisterWrites(model: CodeModel, cr: 0 | 4): ControlRegisterWrite[] {
  const lo = 0xc0 | (cr << 3);
  const writes: Array<ControlRegisterWrite & { functionStart: number }> = [];
  const hits = confirmed(model, [0x0f, 0x22], (b) => b >= lo && b <= lo + 7, (insn) => insn.mnemonic === 'mov' && isReg(insn, `cr${cr}`));
  for (const hit of hits) {
    const { code, index } = hit;
    let clearedBits = 0n;
    let setBits = 0n;
    // Only the instructions since the previous write to the same register count: the
    // restoring write must not inherit the `and` that came before the clearing one.
    let from = Math.max(0, index - CONTEXT);
    for (let k = index - 1; k >= from; k--) if (isReg(code.insns[k] as Insn, `cr${cr}`)) from = k + 1;
    for (const b of code.insns.slice(from, index)) {
      const imm = b.operands[1];
      if (imm?.kind !== 'imm') continue;
      if (b.mnemonic === 'and') clearedBits |= ~imm.value & 0xffffffffn;
      if (b.mnemonic === 'btr') clearedBits |= 1n << (imm.value & 63n);
      if (b.mnemonic === 'or') setBits |= imm.value & 0xffffffffn;
      if (b.mnemonic === 'bts') setBits |= 1n << (imm.value & 63n);
    }
    writes.push({ ...hit.write, clearedBits, setBits, functionStart: code.fn.start });
  }
  writes.sort((a, b) => a.rva - b.rva);
  const out: ControlRegisterWrite[] = [];
  const absorbed = new Set<number>();
  for (const w of writes) {
    if (absorbed.has(w.rva)) continue;
    const { functionStart, ...write } = w;
    if (w.clearedBits !== 0n) {
      // The next write of the same function restores it when it clears nothing itself: it
      // sets the bits again (`or rax, 0x10000`) or writes back a value saved before.
      const restore = writes.find((r) => r.rva > w.rva && r.functionStart === functionStart && !absorbed.has(r.rva));
      if (restore && restore.clearedBits === 0n) {
        absorbed.add(restore.rva);
        const restoredBy = { rva: restore.rva, function: restore.function, functionRva: restore.functionRva, text: restore.text, context: restore.context, setBits: restore.setBits };
        out.push({ ...write, restoredBy });
        continue;
      }
    }
    out.push(write);
  }
  return out;
}

/** `wrmsr` instructions with the MSR numbers ecx holds there. */
export function findMsrWrites(model: CodeModel): MsrWrite[] {
  const out: MsrWrite[] = [];
  for (const { code, index, write } of confirmed(model, [0x0f, 0x30], undefined, (insn) => insn.mnemonic === 'wrmsr')) {
    const msrs = resolveBefore(model, code, index, { k: 'reg', fam: 1 })
      .map((v) => (v.origin.kind === 'const' && !v.merged ? v.origin.value & 0xffffffffn : undefined))
      .filter((v): v is bigint => v !== undefined);
    out.push({ ...write, msrs: [...new Set(msrs)] });
  }
  return out;
}

function isReg(insn: Insn, name: string): boolean {
  const dst = insn.operands[0];
  return dst?.kind === 'reg' && dst.reg === name;
}

/**
 * Byte-scans code sections for `opcode` (then a ModRM accepted by `modrm`, when given),
 * allowing one REX prefix on x64, and keeps the candidates the decoder confirms.
 */
function confirmed(
  model: CodeModel,
  opcode: readonly number[],
  modrm: ((byte: number) => boolean) | undefined,
  accept: (insn: Insn) => boolean,
): Array<{ code: FunctionCode; index: number; write: PrivilegedWrite }> {
  const out: Array<{ code: FunctionCode; index: number; write: PrivilegedWrite }> = [];
  const seen = new Set<number>();
  const need = opcode.length + (modrm ? 1 : 0);
  const [first, ...rest] = opcode as [number, ...number[]];
  for (const { rva, bytes } of model.codeSections()) {
    // indexOf (native) finds the first opcode byte; the rest is checked by hand.
    for (let i = bytes.indexOf(first); i >= 0 && i + need <= bytes.length; i = bytes.indexOf(first, i + 1)) {
      if (!rest.every((b, k) => bytes[i + 1 + k] === b)) continue;
      if (modrm && !modrm(bytes[i + opcode.length] as number)) continue;
      const prev = i > 0 ? (bytes[i - 1] as number) : -1;
      const start = model.bitness === 64 && prev >= 0x40 && prev <= 0x4f ? rva + i - 1 : rva + i;
      const fn: CodeFunction | undefined = model.functions.containing(start);
      if (!fn || seen.has(start) || model.image.dataRanges.contains(start) || !isReached(model, fn)) continue;
      const code = model.code(fn);
      const index = code.indexOf.get(start);
      const insn = index === undefined ? undefined : code.insns[index];
      if (index === undefined || !insn || !accept(insn)) continue;
      seen.add(start);
      const write: PrivilegedWrite = {
        rva: start,
        function: functionName(fn),
        functionRva: fn.start,
        text: model.format(start),
        context: code.insns.slice(Math.max(0, index - CONTEXT), index).map((b) => ({ rva: b.rva, text: model.format(b.rva) })),
      };
      out.push({ code, index, write });
    }
  }
  return out;
}
