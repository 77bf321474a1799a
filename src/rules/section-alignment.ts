import { displayName, hex, PAGE_SIZE } from '../pe/index.js';
import { sectionEvidence } from './evidence.js';
import { defineRule } from './types.js';

export default defineRule({
  meta: {
    id: 'section-alignment',
    defaultSeverity: 'error',
    docs: {
      title: 'Sections are not aligned to 4 KiB pages',
      description:
        'HVCI protects memory one 4 KiB page at a time, so code and data must start on page boundaries. ' +
        'Driver Verifier rejects an image whose SectionAlignment is 0 or not a multiple of 0x1000; hvci also ' +
        'reports each section whose VirtualAddress is not page aligned.',
      resolution: 'Link with /ALIGN:0x1000 (DRIVER_ALIGNMENT=0x1000; GNU ld: --section-alignment=0x1000).',
      ruleBook: '§1 section-alignment',
      why:
        'Protections are set per 4 KiB page. If sections are not page aligned, code and data share pages, and such a page would have to be both writable and executable, which HVCI never allows. Microsoft therefore requires SectionAlignment of 0x1000 (or a multiple) for drivers, and Driver Verifier checks it at load.',
      example: {
        fixture: 'section_align_small.x64.mingw.sys',
        text: 'error    section-alignment  SectionAlignment is 0x200, not a multiple of 0x1000: sections can share a page, so code and data cannot get separate protections.\n         at file offset 0xB8',
      },
      verifier: 'Bug check 0xC4, parameter 1 = 0x2004 ("contains section … that is not page aligned")',
    },
    messages: {
      header:
        'SectionAlignment is {alignment}, not a multiple of 0x1000: sections can share a page, so code and data cannot get separate protections.',
      section: "Section '{section}' starts at RVA {rva}, which is not on a 4 KiB page boundary.",
    },
  },
  check(image, ctx) {
    const oh = image.optionalHeader;
    if (oh.sectionAlignment === 0 || oh.sectionAlignment % PAGE_SIZE !== 0) {
      ctx.report(
        'header',
        { alignment: hex(oh.sectionAlignment) },
        {
          fileOffset: oh.offset + 32,
          evidence: {
            sectionAlignment: hex(oh.sectionAlignment),
            fileAlignment: hex(oh.fileAlignment),
            field: 'IMAGE_OPTIONAL_HEADER.SectionAlignment',
          },
        },
      );
    }
    for (const s of image.sections) {
      if (s.virtualAddress % PAGE_SIZE === 0) continue;
      ctx.report(
        'section',
        { section: displayName(s), rva: hex(s.virtualAddress) },
        { rva: s.virtualAddress, fileOffset: s.headerOffset, section: s.name, evidence: { section: sectionEvidence(s) } },
      );
    }
  },
});
