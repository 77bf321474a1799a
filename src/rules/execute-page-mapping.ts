import { defineCallSiteRule } from './call-site-rule.js';

export default defineCallSiteRule({
  id: 'execute-page-mapping',
  defaultSeverity: 'error',
  docs: {
    title: 'MDL or I/O-space mapping is executable',
    description:
      'MmMapLockedPagesSpecifyCache (and the inline MmGetSystemAddressForMdlSafe) maps an MDL executable unless the ' +
      'Priority argument carries MdlMappingNoExecute (0x40000000); MmMapIoSpace always maps executable memory and ' +
      'MmMapLockedPages has no way to ask for NX. HVCI refuses executable mappings of data. hvci finds each call, ' +
      'recovers Priority (including the driver\'s POOL_NX_OPTIN default ExDefaultMdlProtection) and reports ' +
      'executable mappings as errors, unresolved ones as warnings. With AccessMode = UserMode the pages are mapped ' +
      'into a user address space, which HVCI does not police: a warning (Driver Verifier still flags it).',
    resolution:
      'OR MdlMappingNoExecute into Priority (MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority | MdlMappingNoExecute)); replace MmMapIoSpace with MmMapIoSpaceEx(PAGE_READWRITE | PAGE_NOCACHE).',
    ruleBook: '§2 call-site rules (execPrio; MmMapIoSpace, MmMapLockedPages class D), §3.3',
    verifier: 'Bug check 0xC4, parameter 1 = 0x2002 ("specified an executable MDL mapping")',
    related: 'WDK Code Analysis C30029 (MmMapIoSpace), C30030, C30032',
    unconfirmed: 'That MmMapLockedPages (obsolete) maps executable memory is not confirmed; its calls are warnings.',
  },
  messages: {
    executable: '{api} at {callRva} in {function} maps the pages executable: {argument} = {value} lacks MdlMappingNoExecute{through}{context}.',
    unresolved: '{api} at {callRva} in {function}: {argument} comes from {origin} ({reason}){through}; the mapping is executable unless it includes MdlMappingNoExecute.',
    always: '{api} at {callRva} in {function} always creates an executable mapping.',
  },
});
