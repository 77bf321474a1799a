import { containsRva, DirectoryIndex, displayName, hex, isExecutable, rights, type Section } from '../pe/index.js';
import { sectionEvidence } from './evidence.js';
import { defineRule } from './types.js';

export default defineRule({
  meta: {
    id: 'iat-in-executable-section',
    defaultSeverity: 'error',
    docs: {
      title: 'Import address table lies in an executable section',
      description:
        'The loader writes resolved import addresses into the IAT, so the IAT must be writable while it is ' +
        'filled; in an executable section that would need a W+X page. Driver Verifier checks whether the start of ' +
        'the IAT (data directory 12) falls inside a section with MEM_EXECUTE, using the section\'s virtual extent. ' +
        'When directory 12 is empty hvci checks the import descriptors\' FirstThunk arrays instead (a warning: ' +
        'Verifier does not).',
      resolution: 'Do not merge .rdata/.idata into .text (remove /MERGE:.rdata=.text or the linker-script equivalent).',
      ruleBook: '§1 iat-in-executable-section',
      why:
        'The loader writes the resolved import addresses into the import address table (IAT). If the IAT lies in an executable section, that write would need a writable executable page. Under HVCI executable pages are never writable, so Microsoft lists "IAT in executable section" among the incompatibilities and Driver Verifier checks it at load.',
      example: {
        fixture: 'iat_in_text.x64.mingw.sys',
        text: 'error    iat-in-executable-section  The import address table (directory 12, RVA 0x1080, 0x18 bytes) starts inside executable section \'.text\' (R - X).\n         at RVA 0x1080 · section .text · file offset 0x480',
      },
      verifier: 'Bug check 0xC4, parameter 1 = 0x2005 (0x2006 in one older build) ("contains an IAT … in executable section")',
      related: 'BinSkim BA2010 (import directory, user mode only)',
    },
    messages: {
      iat: "The import address table (directory 12, RVA {rva}, {size} bytes) starts inside executable section '{section}' ({rights}).",
      firstThunk:
        "Directory 12 is empty, and the IAT of {dll} (FirstThunk RVA {rva}) lies inside executable section '{section}' ({rights}).",
    },
  },
  check(image, ctx) {
    // containsRva uses the virtual extent (VirtualSize, SizeOfRawData when 0), as Verifier does.
    const executableAt = (rva: number): Section | undefined =>
      image.sections.find((s) => isExecutable(s) && containsRva(s, rva));
    const iat = image.directory(DirectoryIndex.iat);
    if (iat) {
      const s = executableAt(iat.virtualAddress);
      if (s) {
        ctx.report(
          'iat',
          { rva: hex(iat.virtualAddress), size: hex(iat.size), section: displayName(s), rights: rights(s.characteristics) },
          {
            rva: iat.virtualAddress,
            section: s.name,
            evidence: {
              directory: { index: 12, virtualAddress: hex(iat.virtualAddress), size: hex(iat.size), entryFileOffset: hex(iat.entryOffset) },
              section: sectionEvidence(s),
            },
          },
        );
      }
      return;
    }
    for (const m of image.imports) {
      if (m.iatRva === 0) continue;
      const s = executableAt(m.iatRva);
      if (!s) continue;
      const fileOffset = image.space.offsetOf(m.iatRva);
      ctx.report(
        'firstThunk',
        { dll: m.dll, rva: hex(m.iatRva), section: displayName(s), rights: rights(s.characteristics) },
        {
          rva: m.iatRva,
          section: s.name,
          severity: 'warning',
          ...(fileOffset === undefined ? {} : { fileOffset }),
          evidence: { dll: m.dll, firstThunk: hex(m.iatRva), section: sectionEvidence(s) },
        },
      );
    }
  },
});

