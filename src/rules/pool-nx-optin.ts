import { analyzeCalls } from '../analysis/call-analysis.js';
import { defineRule, type FindingDetails } from './types.js';
import { hex } from '../pe/index.js';


export default defineRule({
  meta: {
    id: 'pool-nx-optin',
    requiresCode: true,
    defaultSeverity: 'note',
    docs: {
      title: 'The driver opts in to NX non-paged pool',
      description:
        'A driver built with POOL_NX_OPTIN=1 calls ExInitializeDriverRuntime(DrvRtPoolNxOptIn) in DriverEntry; the ' +
        'inlined code calls RtlGetVersion and, on Windows 8 and later, stores NonPagedPoolNx (0x200) into the driver\'s ' +
        'own default pool type variable and MdlMappingNoExecute into its default MDL protection (rule book §3.4). ' +
        'Allocations that pass the default are then NX, and execute-pool-type counts them as compatible. This note ' +
        'says where the opt-in happens; it is information, not a problem. Not a rule-book id: the book names only ' +
        'the problems (nx-optin-missing, nx-optin-late).',
      resolution: 'Nothing to fix: keep calling ExInitializeDriverRuntime(DrvRtPoolNxOptIn) first thing in DriverEntry.',
      ruleBook: 'not in the rule book (information note for §3.4 NX opt-in)',
      related: 'WDK Code Analysis C30031, C30035 (opt-in placement)',
    },
    messages: {
      nxOptIn:
        'The driver opts in to NX non-paged pool (POOL_NX_OPTIN): {function} stores NonPagedPoolNx into its default pool type at {storeRva} after RtlGetVersion, so allocations that use the default are NX on Windows 8 and later.',
    },
  },
  check(image, ctx) {
    const analysis = analyzeCalls(image);
    if (!analysis.supported || !analysis.nxOptIn) return;
    const o = analysis.nxOptIn;
    const store = o.poolTypeStoreRva ?? o.mdlProtectionStoreRva ?? o.rtlGetVersionCallRva;
    const details: FindingDetails = {
      rva: store,
      evidence: {
        function: o.function,
        functionRva: hex(o.functionRva),
        rtlGetVersionCall: hex(o.rtlGetVersionCallRva),
        ...(o.poolTypeVariableRva !== undefined ? { poolTypeVariable: hex(o.poolTypeVariableRva) } : {}),
        ...(o.mdlProtectionVariableRva !== undefined ? { mdlProtectionVariable: hex(o.mdlProtectionVariableRva) } : {}),
        callsUsingTheDefault: analysis.calls.filter((c) => c.values.some((v) => v.verdict === 'nx-optin')).map((c) => hex(c.callRva)),
      },
    };
    ctx.report('nxOptIn', { function: o.function, storeRva: hex(store) }, details);
  },
});
