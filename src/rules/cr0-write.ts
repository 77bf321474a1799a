import { findControlRegisterWrites } from '../analysis/privileged-writes.js';
import { hex, type PeImage } from '../pe/index.js';
import { x86Only } from './applicability.js';
import { defineInstructionRule } from './instruction-rule.js';

const WRITE_PROTECT = 0x10000n;

export default defineInstructionRule({
  meta: {
    id: 'cr0-write',
    defaultSeverity: 'error',
    docs: {
      title: 'Code writes the CR0 register',
      description:
        'Drivers write CR0 to clear the write-protect bit (WP, bit 16) and patch read-only or executable memory. Under ' +
        'HVCI the hypervisor keeps code pages non-writable whatever CR0 says, so the patch faults or the write to CR0 ' +
        'is refused. hvci finds `mov cr0, reg` in the code and confirms it with the decoder inside its function. A ' +
        'write that clears WP and the later write in the same function that sets it again are one finding, with both ' +
        'instructions as proof. Only code reached from the entry point, an export, a .pdata function or a call counts.',
      resolution:
        'Do not modify code or read-only memory: remove the CR0 manipulation and use supported interfaces (callbacks, filter APIs) instead of patching.',
      ruleBook: '§8 cr0-write',
      unconfirmed: 'The exact failure mode under HVCI (fault or bug check) is not confirmed.',
    },
    messages: {
      write: '{text} at {rva} in {function} writes CR0{wp}; HVCI keeps code read-only, so patching code this way fails.',
      toggle:
        '{text} at {rva} in {function} clears the write-protect bit (WP) of CR0 and {restoreText} at {restoreRva} sets it again: one code-patching sequence; HVCI keeps code read-only, so patching code this way fails.',
    },
  },
  appliesTo: x86Only,
  find: (model) => findControlRegisterWrites(model, 0),
  describe(w, model) {
    const clearsWriteProtect = (w.clearedBits & WRITE_PROTECT) !== 0n;
    const restore = w.restoredBy;
    if (restore && clearsWriteProtect) {
      // One finding for the pair; both instructions are its proof.
      return {
        messageId: 'toggle',
        args: { text: w.text, rva: hex(w.rva), function: w.function, restoreText: restore.text, restoreRva: hex(restore.rva) },
        evidence: {
          clearsWriteProtect,
          restore: {
            rva: hex(restore.rva),
            instruction: restore.text,
            ...fileOffsetOf(model.image, restore.rva),
            context: restore.context.map((c) => ({ rva: hex(c.rva), text: c.text })),
          },
        },
      };
    }
    return {
      messageId: 'write',
      args: { text: w.text, rva: hex(w.rva), function: w.function, wp: clearsWriteProtect ? ' after clearing the write-protect bit (WP)' : '' },
      evidence: { clearsWriteProtect },
    };
  },
});

function fileOffsetOf(image: PeImage, rva: number): { fileOffset?: string } {
  const offset = image.space.offsetOf(rva);
  return offset === undefined ? {} : { fileOffset: hex(offset) };
}
