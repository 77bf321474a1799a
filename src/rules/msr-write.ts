import { findMsrWrites } from '../analysis/privileged-writes.js';
import { x86Only } from './applicability.js';
import { defineInstructionRule } from './instruction-rule.js';
import { hex } from '../pe/index.js';


/** MSRs that hold system-call entry points: the ones syscall hooks overwrite. */
const SYSCALL_MSRS: ReadonlyMap<bigint, string> = new Map([
  [0x176n, 'IA32_SYSENTER_EIP'],
  [0xc0000082n, 'IA32_LSTAR'],
  [0xc0000083n, 'IA32_CSTAR'],
]);

export default defineInstructionRule({
  meta: {
    id: 'msr-write',
    defaultSeverity: 'warning',
    docs: {
      title: 'Code writes a model-specific register (wrmsr)',
      description:
        'WRMSR to IA32_LSTAR (0xC0000082), IA32_CSTAR or IA32_SYSENTER_EIP (0x176) replaces the system-call entry ' +
        'point: a syscall hook. Under HVCI the hypervisor protects these registers, so the hook is refused or ' +
        'reported. Other MSR writes (performance counters, power management) can be legitimate. hvci finds `wrmsr`, ' +
        'confirms it with the decoder, and recovers the MSR number in ECX by backward data flow (every value of a loop ' +
        'that counts ECX over a range, not only the first); it is a heuristic ' +
        '(rule book §8), hence a warning. ' +
        'Only code reached from the entry point, an export, a .pdata function or a call counts: bytes of the data directories (import tables in INIT, tables in .text) and of packed-looking sections are never decoded as instructions.',
      resolution: 'Do not hook system calls by rewriting MSRs; use documented callbacks (process, thread, image, registry, object, minifilter).',
      ruleBook: '§8 msr-write',
      unconfirmed: 'Which MSR writes HVCI intercepts, and how, is not confirmed.',
    },
    messages: {
      write: 'wrmsr at {rva} in {function} writes {msr}{hook} (heuristic).',
    },
  },
  appliesTo: x86Only,
  find: (model) => findMsrWrites(model),
  describe(w) {
    const named = (m: bigint): string => (SYSCALL_MSRS.has(m) ? `${SYSCALL_MSRS.get(m) as string} (${hex(m)})` : `MSR ${hex(m)}`);
    const last = w.msrs[w.msrs.length - 1];
    // A counting loop: every MSR it reaches, said as a range (the list is in the evidence).
    const names = w.loop && last !== undefined
      ? [`every MSR from ${hex(w.loop.first)} to ${hex(last)} (${w.loop.count} values, step ${w.loop.step}: ecx counts in a loop)${w.msrs.some((m) => SYSCALL_MSRS.has(m)) ? `, including ${w.msrs.filter((m) => SYSCALL_MSRS.has(m)).map(named).join(' and ')}` : ''}`]
      : w.msrs.map(named);
    const hook = w.msrs.some((m) => SYSCALL_MSRS.has(m));
    return {
      messageId: 'write',
      args: {
        rva: hex(w.rva),
        function: w.function,
        msr: names.length ? names.join(' or ') : 'an MSR whose number is not a constant',
        hook: hook ? ', a system-call entry point: a syscall hook, which HVCI prevents' : '',
      },
      evidence: {
        msrs: w.msrs.map((m) => hex(m)),
        syscallEntry: hook,
        ...(w.loop ? { loop: { first: hex(w.loop.first), step: Number(w.loop.step), count: w.loop.count, compare: hex(w.loop.compareRva) } } : {}),
      },
    };
  },
});
