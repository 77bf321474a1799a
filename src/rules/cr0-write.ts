import { findCr0Writes } from '../analysis/cr0.js';
import { codeModelOf } from '../analysis/code-model.js';
import { defineRule, type FindingDetails } from './types.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

export default defineRule({
  meta: {
    id: 'cr0-write',
    requiresCode: true,
    defaultSeverity: 'error',
    docs: {
      title: 'Code writes the CR0 register',
      description:
        'Drivers write CR0 to clear the write-protect bit (WP, bit 16) and patch read-only or executable memory. Under ' +
        'HVCI the hypervisor keeps code pages non-writable whatever CR0 says, so the patch faults or the write to CR0 ' +
        'is refused. hvci finds `mov cr0, reg` in the code and confirms it with the decoder inside its function.',
      resolution:
        'Do not modify code or read-only memory: remove the CR0 manipulation and use supported interfaces (callbacks, filter APIs) instead of patching.',
      ruleBook: '§8 cr0-write',
      unconfirmed: 'The exact failure mode under HVCI (fault or bug check) is not confirmed.',
    },
    messages: {
      write: '{text} at {rva} in {function} writes CR0{wp}; HVCI keeps code read-only, so patching code this way fails.',
    },
  },
  check(image, ctx) {
    const model = codeModelOf(image);
    if ('supported' in model) return;
    try {
      for (const w of findCr0Writes(model)) {
        const details: FindingDetails = {
          rva: w.rva,
          evidence: {
            function: w.function,
            functionRva: hex(w.functionRva),
            instruction: w.text,
            context: w.context.map((c) => ({ rva: hex(c.rva), text: c.text })),
            clearsWriteProtect: w.clearsWriteProtect,
          },
        };
        if (w.fileOffset !== undefined) details.fileOffset = w.fileOffset;
        const section = image.space.sectionAt(w.rva);
        if (section) details.section = section.name;
        ctx.report(
          'write',
          { text: w.text, rva: hex(w.rva), function: w.function, wp: w.clearsWriteProtect ? ' after clearing the write-protect bit (WP)' : '' },
          details,
        );
      }
    } finally {
      model.reader.dispose();
    }
  },
});
