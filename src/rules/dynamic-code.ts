import { findGeneratedCodeCalls } from '../analysis/generated-code.js';
import { defineInstructionRule } from './instruction-rule.js';
import { hex } from '../pe/index.js';


export default defineInstructionRule({
  meta: {
    id: 'dynamic-code',
    defaultSeverity: 'error',
    docs: {
      title: 'Code calls into memory it allocated (generated code)',
      description:
        'An indirect call or jump whose target is the pointer an allocator just returned (ExAllocatePool*, ' +
        'MmAllocateContiguous*, MmMapIoSpace*, MmMapLockedPages*) runs code the driver generated or copied at run ' +
        'time. Under HVCI only code that passed the integrity checks is executable: pool and mapped memory never is, ' +
        'whatever pool type or protection was requested, so the call faults. hvci follows the returned pointer ' +
        'through registers and stack slots (and the x64 CFG dispatch routine) to the call in the same function.',
      resolution: 'Do not generate or load code at run time: ship the code in the signed driver image, or use a supported mechanism (a separate signed driver, a user-mode component).',
      ruleBook: '§8 dynamic-code',
      unconfirmed: 'The exact failure mode under HVCI (fault or bug check) is not confirmed.',
    },
    messages: {
      call: '{text} at {rva} in {function} jumps into memory {allocator} returned at {allocation}: the driver runs generated code, which HVCI never allows.',
    },
  },
  find: (model) => findGeneratedCodeCalls(model),
  describe: (c) => ({
    messageId: 'call',
    args: { text: c.text, rva: hex(c.rva), function: c.function, allocator: c.allocator, allocation: hex(c.allocationRva) },
    evidence: { allocator: c.allocator, allocation: hex(c.allocationRva) },
  }),
});
