import { defineCallSiteRule } from './call-site-rule.js';

export default defineCallSiteRule({
  id: 'execute-cache-type',
  defaultSeverity: 'error',
  docs: {
    title: 'Contiguous allocation with MmCached returns executable memory',
    description:
      'MmAllocateContiguousMemorySpecifyCache(Node) with CacheType MmCached (1) returns executable memory, which ' +
      'HVCI does not allow; MmAllocateContiguousMemory offers no choice at all. hvci recovers CacheType at each call ' +
      'and reports MmCached as an error, unresolved values and MmAllocateContiguousMemory as warnings.',
    resolution: 'Use MmAllocateContiguousNodeMemory with PAGE_READWRITE (or pass MmNonCached / MmWriteCombined).',
    ruleBook: '§2 call-site rules (execCache; MmAllocateContiguousMemory class D), §3.3, §4 C30029',
    related: 'WDK Code Analysis C30029, C30030',
    unconfirmed: 'That MmAllocateContiguousMemory always returns executable memory is not confirmed; its calls are warnings.',
  },
  messages: {
    executable: '{api} at {callRva} in {function} allocates executable contiguous memory: {argument} = {value}{through}{context}.',
    unresolved: '{api} at {callRva} in {function}: {argument} comes from {origin} ({reason}){through}; MmCached would make the memory executable.',
    always: '{api} at {callRva} in {function} may return executable memory (no argument selects NX).',
  },
});
