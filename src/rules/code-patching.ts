import { findCodeMdls } from '../analysis/code-mdls.js';
import { findRoutineLookups } from '../analysis/dynamic-lookup.js';
import { defineInstructionRule } from './instruction-rule.js';
import { hex } from '../pe/index.js';


export default defineInstructionRule({
  meta: {
    id: 'code-patching',
    defaultSeverity: 'error',
    docs: {
      title: 'Builds an MDL over code (code patching)',
      description:
        'IoAllocateMdl over a kernel routine (looked up with MmGetSystemRoutineAddress, or an import\'s address) or over ' +
        'the driver\'s own code is the first step of the classic code patch: lock or build the MDL, map it writable ' +
        '(or MmProtectMdlSystemAddress with PAGE_READWRITE) and copy the patch in. Under HVCI code pages are never ' +
        'writable through any mapping, so the patch fails; hooking kernel code is also what PatchGuard and HVCI exist ' +
        'to stop. hvci recovers the VirtualAddress argument at each IoAllocateMdl call by backward data flow.',
      resolution: 'Do not patch kernel or driver code: use the documented callbacks and filter interfaces (Ps*Notify*, CmRegisterCallbackEx, ObRegisterCallbacks, minifilters, WFP) instead of hooks.',
      ruleBook: '§8 code-patching',
      unconfirmed: 'The exact failure mode under HVCI (fault or bug check) is not confirmed.',
    },
    messages: {
      mdl: 'IoAllocateMdl at {rva} in {function} describes {describes}: an MDL over code is how drivers patch it, and under HVCI code is never writable.',
    },
  },
  find: (model) => findCodeMdls(model, findRoutineLookups(model)),
  describe: (m) => ({
    messageId: 'mdl',
    args: { rva: hex(m.rva), function: m.function, describes: m.describes },
    evidence: { describes: m.describes, kind: m.kind },
  }),
});
