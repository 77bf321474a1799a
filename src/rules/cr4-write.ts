import { findControlRegisterWrites } from '../analysis/privileged-writes.js';
import { x86Only } from './applicability.js';
import { defineInstructionRule } from './instruction-rule.js';
import { hex } from '../pe/index.js';

const SMEP = 1n << 20n;
const SMAP = 1n << 21n;

export default defineInstructionRule({
  meta: {
    id: 'cr4-write',
    defaultSeverity: 'warning',
    docs: {
      title: 'Code writes the CR4 register',
      description:
        'Writing CR4 is how kernel exploits and some hooking drivers turn off SMEP (bit 20) or SMAP (bit 21) so the ' +
        'kernel can run or touch user pages. Under HVCI the hypervisor watches these bits, so such a driver fails or ' +
        'is stopped. A legitimate driver has no reason to write CR4. hvci finds `mov cr4, reg` in the code and ' +
        'confirms it with the decoder inside its function; it is a heuristic (rule book §8), hence a warning. ' +
        'Only code reached from the entry point, an export, a .pdata function or a call counts: bytes of the data directories (import tables in INIT, tables in .text) and of packed-looking sections are never decoded as instructions.',
      resolution: 'Remove the CR4 manipulation; nothing a driver should do needs SMEP or SMAP off.',
      ruleBook: '§8 cr4-write',
      unconfirmed: 'What HVCI does with a CR4 write (refused, bug check, or HyperGuard report) is not confirmed.',
    },
    messages: {
      write: '{text} at {rva} in {function} writes CR4{bits}; HVCI protects these bits, so code that relies on this fails (heuristic).',
    },
  },
  appliesTo: x86Only,
  find: (model) => findControlRegisterWrites(model, 4),
  describe(w) {
    const cleared = [w.clearedBits & SMEP ? 'SMEP' : '', w.clearedBits & SMAP ? 'SMAP' : ''].filter(Boolean);
    return {
      messageId: 'write',
      args: { text: w.text, rva: hex(w.rva), function: w.function, bits: cleared.length ? ` after clearing ${cleared.join(' and ')}` : '' },
      evidence: { clearsBits: cleared },
    };
  },
});
