import { findCodeWrites } from '../analysis/code-writes.js';
import { defineInstructionRule } from './instruction-rule.js';
import { hex } from '../pe/index.js';


export default defineInstructionRule({
  meta: {
    id: 'self-modifying-code',
    defaultSeverity: 'error',
    docs: {
      title: 'Code writes into the driver\'s own code',
      description:
        'A store whose destination is in an executable, read-only section of the same image patches the driver\'s ' +
        'own code (self-modifying code, run-time patching of its own functions). Compilers never do this; the driver ' +
        'must clear CR0.WP or map a writable alias first. Under HVCI code pages are never writable, so the store ' +
        'faults. hvci finds stores with a fixed target address (x64 [rip+disp], x86 [disp32]) and confirms them with ' +
        'the decoder; stores through a computed pointer are not seen. Writable+executable sections are left to ' +
        'execute-write-section. ' +
        'Only code reached from the entry point, an export, a .pdata function or a call counts: bytes of the data directories (import tables in INIT, tables in .text) and of packed-looking sections are never decoded as instructions.',
      resolution: 'Do not patch code at run time: keep the variable part in data (a flag, a function pointer in a read-only-after-init table) and branch on it.',
      ruleBook: '§8 self-modifying-code',
      unconfirmed: 'The exact failure mode under HVCI (fault or bug check) is not confirmed.',
    },
    messages: {
      write: '{text} at {rva} in {function} writes into {section} at {target}{inFunction}: the driver patches its own code, and under HVCI code pages are never writable.',
    },
  },
  find: (model) => findCodeWrites(model),
  describe: (w) => ({
    messageId: 'write',
    args: {
      text: w.text,
      rva: hex(w.rva),
      function: w.function,
      section: w.targetSection,
      target: hex(w.targetRva),
      inFunction: w.targetFunction ? ` (inside ${w.targetFunction})` : '',
    },
    evidence: { target: { rva: hex(w.targetRva), section: w.targetSection, ...(w.targetFunction ? { function: w.targetFunction } : {}) } },
  }),
});
