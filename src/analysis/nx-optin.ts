/**
 * POOL_NX_OPTIN (rule book §3.4): ExInitializeDriverRuntime(DrvRtPoolNxOptIn) is inlined
 * into DriverEntry as a call to RtlGetVersion followed, on Windows 8 or later, by stores of
 * NonPagedPoolNx (0x200) and MdlMappingNoExecute (0x40000000) into two driver-local
 * globals (ExDefaultNonPagedPoolType, ExDefaultMdlProtection). Allocation sites then load
 * those globals, which are NX on every Windows that has HVCI.
 */
import { isWritable } from '../pe/index.js';
import { findImportCallSites } from './call-sites.js';
import type { CodeModel } from './code-model.js';
import { resolveBefore } from './dataflow.js';
import { registerFamily } from './decoder.js';
import { functionName } from './functions.js';

export interface NxOptIn {
  /** The RtlGetVersion call the opt-in hangs on. */
  rtlGetVersionCallRva: number;
  function: string;
  functionRva: number;
  /** ExDefaultNonPagedPoolType: receives 0x200. */
  poolTypeVariableRva?: number;
  /** The store of 0x200. */
  poolTypeStoreRva?: number;
  /** ExDefaultMdlProtection: receives 0x40000000. */
  mdlProtectionVariableRva?: number;
  mdlProtectionStoreRva?: number;
}

const NON_PAGED_POOL_NX = 0x200n;
const MDL_MAPPING_NO_EXECUTE = 0x40000000n;

export function detectNxOptIn(model: CodeModel): NxOptIn | undefined {
  for (const site of findImportCallSites(model, { apis: new Set(['RtlGetVersion']) })) {
    const code = model.code(site.fn);
    const found: NxOptIn = { rtlGetVersionCallRva: site.callRva, function: functionName(site.fn), functionRva: site.fn.start };
    code.insns.forEach((insn, i) => {
      if (insn.mnemonic !== 'mov' || insn.rva < site.callRva) return;
      const [dst, src] = insn.operands;
      if (dst?.kind !== 'mem' || dst.target === undefined || dst.size !== 4) return;
      const section = model.image.space.sectionAt(dst.target);
      if (!section || !isWritable(section)) return;
      let value: bigint | undefined;
      if (src?.kind === 'imm') value = src.value;
      else if (src?.kind === 'reg' && registerFamily(src.reg) >= 0) {
        const values = resolveBefore(model, code, i, { k: 'reg', fam: registerFamily(src.reg) });
        const only = values.length === 1 ? values[0] : undefined;
        if (only?.origin.kind === 'const') value = only.origin.value;
      }
      if (value === NON_PAGED_POOL_NX && found.poolTypeVariableRva === undefined) {
        found.poolTypeVariableRva = dst.target;
        found.poolTypeStoreRva = insn.rva;
      } else if (value === MDL_MAPPING_NO_EXECUTE && found.mdlProtectionVariableRva === undefined) {
        found.mdlProtectionVariableRva = dst.target;
        found.mdlProtectionStoreRva = insn.rva;
      }
    });
    if (found.poolTypeVariableRva !== undefined || found.mdlProtectionVariableRva !== undefined) return found;
  }
  return undefined;
}
