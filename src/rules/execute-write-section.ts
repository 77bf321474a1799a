import { displayName, hex, isExecutable, isWritable, rights } from '../pe/index.js';
import { sectionEvidence } from './evidence.js';
import { defineRule } from './types.js';

/** INIT is handled by init-section-rwx: Windows strips W from it (rule book §1). */
export const isInitSection = (name: string): boolean => name.toUpperCase() === 'INIT';

export default defineRule({
  meta: {
    id: 'execute-write-section',
    defaultSeverity: 'error',
    docs: {
      title: 'Section is both writable and executable',
      description:
        'Under HVCI a kernel page may be writable or executable, never both. The loader refuses a driver ' +
        'with a section whose characteristics include MEM_WRITE and MEM_EXECUTE (0xA0000000), whatever ' +
        'else the section holds.',
      resolution:
        'Keep code and data in separate sections: drop "execute,write" from #pragma section / /SECTION:name,ERW and do not merge data sections into code.',
      ruleBook: '§1 execute-write-section',
      why:
        'A page that is writable and executable at the same time would let anyone who can write kernel memory run new code. HVCI exists to make that impossible: the hypervisor validates code before it can execute and never lets an executable kernel page be written. A section marked MEM_WRITE and MEM_EXECUTE cannot be mapped that way, so the loader refuses the whole driver (and Driver Verifier reports it at load).',
      example: {
        fixture: 'wx_section.x64.mingw.sys',
        text: 'error    execute-write-section  Section \'.rwx\' is writable and executable (characteristics 0xE0000020: R W X); HVCI will not load an image with a W+X section.\n         at RVA 0x3000 · section .rwx · file offset 0x1D8',
      },
      verifier: 'Bug check 0xC4, parameter 1 = 0x2003 ("contains an executable and writable section")',
      related: 'BinSkim BA2021 (same test, user mode only)',
    },
    messages: {
      wx: "Section '{section}' is writable and executable (characteristics {characteristics}: {rights}); HVCI will not load an image with a W+X section.",
    },
  },
  check(image, ctx) {
    for (const s of image.sections) {
      if (!isWritable(s) || !isExecutable(s) || isInitSection(s.name)) continue;
      ctx.report(
        'wx',
        { section: displayName(s), characteristics: hex(s.characteristics, 8), rights: rights(s.characteristics) },
        { rva: s.virtualAddress, fileOffset: s.headerOffset, section: s.name, evidence: { section: sectionEvidence(s) } },
      );
    }
  },
});
