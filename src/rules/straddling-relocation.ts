import { hex, IMAGE_REL_BASED_DIR64, PAGE_SIZE, RELOCATION_TYPE_NAMES, RELOCATION_WIDTH } from '../pe/index.js';
import { includesPre1703 } from './target-os.js';
import { defineRule, type Severity } from './types.js';

export default defineRule({
  meta: {
    id: 'straddling-relocation',
    defaultSeverity: 'error',
    docs: {
      title: 'Base relocation patches bytes on two pages',
      description:
        'A base relocation whose patched field crosses a 4 KiB boundary (a DIR64 entry at page offset > 0xFF8, ' +
        'HIGHLOW > 0xFFC) forces the loader to write two pages for one fix-up. Windows 10 1507, 1511 and 1607 ' +
        'refuse such images under HVCI; 1703 and later handle them. The result is an error when the target OS ' +
        '(--target-os) includes 1507–1607 and a warning otherwise.',
      resolution:
        'Keep pointers naturally aligned: remove #pragma pack around structures that hold pointers, align arrays of pointers, and link with /Gy; or target Windows 10 1703 or later.',
      ruleBook: '§1 straddling-relocation',
      why:
        'Base relocations are applied by the loader, page by page, while the image is validated. Early HVCI releases (Windows 10 1507–1607) could not apply a fix-up whose bytes lie on two pages and refused such images (Microsoft\'s "Unsupported Relocs"); Windows 10 1703 and later handle them.',
      example: {
        fixture: 'straddling_reloc.x64.mingw.sys',
        text: 'error    straddling-relocation  DIR64 relocation at RVA 0x2FFD (page offset 0xFFD) patches 8 bytes across a 4 KiB page boundary; Windows 10 1507–1607 (in the target win10-1507) refuse this image under HVCI.\n         at RVA 0x2FFD · section .strad · file offset 0x2008',
      },
      verifier: 'Older builds: bug check 0xC4, parameter 1 = 0x2005 ("contains straddled relocs")',
      unconfirmed:
        'That the loader also rejected straddling HIGHLOW (x86) and HIGH/LOW/MOV32 entries is unconfirmed: those are reported one level lower, as heuristics.',
    },
    messages: {
      straddle:
        '{type} relocation at RVA {rva} (page offset {offset}) patches {width} bytes across a 4 KiB page boundary; {consequence}',
    },
  },
  check(image, ctx) {
    const old = includesPre1703(ctx.options.targetOs);
    for (const r of image.baseRelocations.entries) {
      const width = RELOCATION_WIDTH[r.type];
      if (width === undefined) continue;
      const offset = r.rva % PAGE_SIZE;
      if (offset + width <= PAGE_SIZE) continue;
      // Only DIR64 straddles are confirmed rejections (rule book §1); others are by analogy.
      const confirmed = r.type === IMAGE_REL_BASED_DIR64;
      const severity: Severity = old ? (confirmed ? 'error' : 'warning') : confirmed ? 'warning' : 'note';
      const consequence = old
        ? `Windows 10 1507–1607 (in the target ${ctx.options.targetOs.name}) ${confirmed ? 'refuse' : 'may refuse (unconfirmed for this type)'} this image under HVCI.`
        : `Windows 10 1703 and later load it; only 1507–1607 ${confirmed ? 'refuse' : 'may refuse (unconfirmed)'} it.`;
      ctx.report(
        'straddle',
        { type: RELOCATION_TYPE_NAMES[r.type] ?? String(r.type), rva: hex(r.rva), offset: hex(offset, 3), width, consequence },
        {
          rva: r.rva,
          ...(r.entryFileOffset === undefined ? {} : { fileOffset: r.entryFileOffset }),
          ...(image.space.sectionAt(r.rva) ? { section: image.space.sectionAt(r.rva)?.name as string } : {}),
          severity,
          evidence: {
            relocation: {
              type: RELOCATION_TYPE_NAMES[r.type] ?? r.type,
              typeValue: r.type,
              targetRva: hex(r.rva),
              blockPageRva: hex(r.rva - r.pageOffset),
              blockRva: hex(r.blockRva),
              entryRva: hex(r.entryRva),
              width,
            },
            targetOs: ctx.options.targetOs.name,
          },
        },
      );
    }
  },
});
