import { defineCallSiteRule } from './call-site-rule.js';

export default defineCallSiteRule({
  id: 'execute-pool-type',
  defaultSeverity: 'error',
  docs: {
    title: 'Pool allocation requests executable memory',
    description:
      'Under HVCI, non-paged pool of an executable type (NonPagedPool, NonPagedPoolCacheAligned, NonPagedPoolMustSucceed, ' +
      'session variants) or ExAllocatePool2/3 with POOL_FLAG_NON_PAGED_EXECUTE, or an NPaged lookaside list without ' +
      'POOL_NX_ALLOCATION, asks for memory the hypervisor will not make executable; Driver Verifier bug-checks on it. ' +
      'hvci finds each call in the machine code (IAT calls, thunks, register calls, tail calls, delay-load imports), ' +
      'recovers the argument by backward data flow, follows it into the callers of wrapper functions, and reports a ' +
      'call as an error when any path passes an executable value, as a warning when the value is not a constant. ' +
      'A lookaside list with its own Allocate routine is a warning (WDK C30034): the flags reach the pool only if ' +
      'the routine passes them on, and its own allocations are checked where it makes them. KMDF methods ' +
      '(WdfMemoryCreate, WdfLookasideListCreate, …) are found through the WdfFunctions table in all its forms.',
    resolution:
      'Pass NonPagedPoolNx (POOL_FLAG_NON_PAGED for ExAllocatePool2/3, POOL_NX_ALLOCATION in lookaside Flags), or build with POOL_NX_OPTIN=1 and call ExInitializeDriverRuntime(DrvRtPoolNxOptIn) in DriverEntry.',
    ruleBook: '§2 call-site rules (execPool, execFlags), §3.1, §3.4',
    verifier: 'Bug check 0xC4, parameter 1 = 0x2000 ("specified an executable pool type")',
    related: 'WDK Code Analysis C30030, C30032, C30033, C30034',
  },
  messages: {
    executable: '{api} at {callRva} in {function} requests executable pool: {argument} = {value}{through}{context}.',
    unresolved: '{api} at {callRva} in {function}: {argument} comes from {origin} ({reason}){through}; the pool is executable if it is NonPagedPool.',
  },
});
