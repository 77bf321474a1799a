/**
 * Calls into memory the driver just allocated or mapped (rule book §8 dynamic-code): an
 * indirect call or jump whose target is the return value of an allocator — `p =
 * ExAllocatePoolWithTag(...); ((void (*)(void))p)();` — including through a stack slot and
 * through the x64 Control Flow Guard dispatch routine (target in RAX). That is generated (or
 * loaded) code; under HVCI pool and mapped memory is never executable, whatever pool type or
 * protection was asked for.
 */
import { findImportCallSites } from './call-sites.js';
import { guardDispatchRva, targetOperand } from './call-targets.js';
import type { CodeModel } from './code-model.js';
import { type Location, RETURN_VALUE, resolveBefore } from './dataflow.js';
import { registerFamily, SP } from './decoder.js';
import { functionName } from './functions.js';
import type { PrivilegedWrite } from './privileged-writes.js';

/** Allocators that return the memory (rule book §2 classes A and D). */
export const ALLOCATORS: ReadonlySet<string> = new Set([
  'ExAllocatePool',
  'ExAllocatePoolWithTag',
  'ExAllocatePoolWithQuota',
  'ExAllocatePoolWithQuotaTag',
  'ExAllocatePoolWithTagPriority',
  'ExAllocatePool2',
  'ExAllocatePool3',
  'MmAllocateContiguousMemory',
  'MmAllocateContiguousMemorySpecifyCache',
  'MmAllocateContiguousMemorySpecifyCacheNode',
  'MmAllocateContiguousNodeMemory',
  'MmMapIoSpace',
  'MmMapIoSpaceEx',
  'MmMapLockedPages',
  'MmMapLockedPagesSpecifyCache',
]);

export interface GeneratedCodeCall extends PrivilegedWrite {
  allocator: string;
  /** The allocator call whose result is called. */
  allocationRva: number;
}


export function findGeneratedCodeCalls(model: CodeModel): GeneratedCodeCall[] {
  const allocations = findImportCallSites(model, { apis: ALLOCATORS });
  if (allocations.length === 0) return [];
  const dispatch = guardDispatchRva(model);
  const pointerMask = model.bitness === 64 ? 0xffffffffffffffffn : 0xffffffffn;
  const byFunction = new Map<number, typeof allocations>();
  for (const a of allocations) {
    const list = byFunction.get(a.fn.start);
    if (list) list.push(a);
    else byFunction.set(a.fn.start, [a]);
  }
  const out: GeneratedCodeCall[] = [];
  for (const sites of byFunction.values()) {
    const fn = (sites[0] as (typeof sites)[number]).fn;
    const code = model.code(fn);
    const byCall = new Map(sites.map((s) => [s.callRva, s.slot.name]));
    code.insns.forEach((insn, index) => {
      // The target in a register, or in a stack slot (`call [rsp+28h]`).
      const target = targetOperand(insn, dispatch);
      let where: Location | undefined;
      if (target && 'fam' in target) where = { k: 'reg', fam: target.fam };
      else if (target && target.mem.base !== undefined && target.mem.index === undefined && registerFamily(target.mem.base) === SP) {
        where = { k: 'mem', base: SP, off: target.mem.disp, size: model.pointerSize };
      }
      if (!where) return;
      for (const v of resolveBefore(model, code, index, where)) {
        // The value itself must be the call's return value, not something loaded through it
        // (a function pointer stored inside the allocated block is ordinary data).
        const from = v.trace[0];
        const returned = v.origin.kind === 'unknown' && v.origin.reason === RETURN_VALUE && (v.andMask & pointerMask) === pointerMask && v.orBits === 0n;
        const allocator = returned && from !== undefined ? byCall.get(from) : undefined;
        if (allocator === undefined || from === undefined) continue;
        const call: GeneratedCodeCall = {
          rva: insn.rva,
          function: functionName(fn),
          functionRva: fn.start,
          text: model.format(insn.rva),
          context: v.trace.map((rva) => ({ rva, text: model.format(rva) })),
          allocator,
          allocationRva: from,
        };
        out.push(call);
        break;
      }
    });
  }
  return out.sort((a, b) => a.rva - b.rva);
}
