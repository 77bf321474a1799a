import { defineCallSiteRule } from './call-site-rule.js';

export default defineCallSiteRule({
  id: 'execute-page-protection',
  defaultSeverity: 'error',
  docs: {
    title: 'Mapping or allocation requests an executable page protection',
    description:
      'A PAGE_EXECUTE* protection (any of 0x10, 0x20, 0x40, 0x80) passed to MmMapIoSpaceEx, MmProtectMdlSystemAddress, ' +
      'Zw/NtAllocateVirtualMemory, ZwProtectVirtualMemory, Zw/NtCreateSection, Zw/NtMapViewOfSection or ' +
      'MmAllocateContiguousNodeMemory asks for executable kernel memory, which HVCI refuses. hvci recovers the ' +
      'protection argument at each call (registers, stack slots, wrapper callers) and reports executable values as ' +
      'errors and values it cannot resolve as warnings. Executable memory in another process (a ProcessHandle other ' +
      'than NtCurrentProcess()) is user memory, which HVCI does not police: a warning, although Driver Verifier ' +
      'still flags it.',
    resolution:
      'Pass the protection without EXECUTE: PAGE_READWRITE instead of PAGE_EXECUTE_READWRITE, PAGE_READONLY instead of PAGE_EXECUTE_READ.',
    ruleBook: '§2 call-site rules (execProt), §3.3',
    verifier: 'Bug check 0xC4, parameter 1 = 0x2001 ("specified an executable page protection")',
    related: 'WDK Code Analysis C30030',
  },
  messages: {
    executable: '{api} at {callRva} in {function} requests an executable protection: {argument} = {value}{through}{context}.',
    unresolved: '{api} at {callRva} in {function}: {argument} comes from {origin} ({reason}){through}; the memory is executable if it holds PAGE_EXECUTE*.',
  },
});
