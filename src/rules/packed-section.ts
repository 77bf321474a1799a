import { packedSections, PACKED_ENTROPY, SUSPECT_ENTROPY } from '../analysis/packed.js';
import { sectionEvidence } from './evidence.js';
import { defineRule } from './types.js';
import { hex } from '../pe/index.js';


export default defineRule({
  meta: {
    id: 'packed-section',
    requiresCode: true,
    defaultSeverity: 'note',
    docs: {
      title: 'Executable section looks packed; its call sites were not analysed',
      description:
        'A packed or encrypted executable section holds bytes that an unpacker rewrites before they run, so the ' +
        'instructions they decode to today (stray `mov cr0`, `wrmsr`, stores, calls) prove nothing about the driver. ' +
        `hvci treats a section as packed when the entropy of its bytes is above ${PACKED_ENTROPY} bits per byte (over ` +
        `at least 512 bytes; compiled code stays below 6.5), or above ${SUSPECT_ENTROPY} with a function reached from ` +
        'the entry point, an export, .pdata or a call running into bytes the decoder cannot decode. Such a section gets ' +
        'this one note and no call-site or instruction findings; image-level rules still apply to it. Not in the rule ' +
        'book: this is hvci saying what it could not check.',
      resolution:
        'Scan the unpacked driver (the image as it is in memory after unpacking), or ask the vendor for an unpacked build; HVCI itself refuses drivers that write their own code at run time.',
      ruleBook: 'not in the rule book (hvci coverage note; relates to §8 "no data loaded as executable")',
    },
    messages: {
      packed: 'Call sites in section {section} not analysed: it looks packed ({why}).',
    },
  },
  check(image, ctx) {
    for (const p of packedSections(image)) {
      const why =
        p.reason === 'entropy'
          ? `entropy ${p.entropy.toFixed(2)} bits per byte, above ${PACKED_ENTROPY}`
          : `entropy ${p.entropy.toFixed(2)} bits per byte and undecodable bytes at ${hex(p.undecodableAt ?? 0)} in reached code`;
      ctx.report(
        'packed',
        { section: p.section.name, why },
        {
          rva: p.section.virtualAddress,
          section: p.section.name,
          evidence: {
            section: sectionEvidence(p.section),
            entropy: Number(p.entropy.toFixed(3)),
            threshold: p.reason === 'entropy' ? PACKED_ENTROPY : SUSPECT_ENTROPY,
            reason: p.reason,
            ...(p.undecodableAt !== undefined ? { undecodableAt: hex(p.undecodableAt) } : {}),
          },
        },
      );
    }
  },
});
