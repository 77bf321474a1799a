import {
  hex,
  IMAGE_REL_BASED_ABSOLUTE,
  IMAGE_REL_BASED_DIR64,
  IMAGE_REL_BASED_HIGHLOW,
  RELOCATION_TYPE_NAMES,
} from '../pe/index.js';
import { includesPre1703 } from './target-os.js';
import { defineRule } from './types.js';

export default defineRule({
  meta: {
    id: 'unsupported-relocation-type',
    defaultSeverity: 'warning',
    docs: {
      title: 'Base relocation of a type old HVCI loaders did not support',
      description:
        'Windows 10 1507–1607 under HVCI expected only DIR64 (PE32+) or HIGHLOW (PE32) base relocations, besides ' +
        'ABSOLUTE padding; older Driver Verifier builds reported any other type as "unsupported relocs". Only ' +
        'reported when the target OS includes those releases.',
      resolution: 'Rebuild with a current toolset, or target Windows 10 1703 or later.',
      ruleBook: '§1 unsupported-relocation-type',
      verifier: 'Older builds: bug check 0xC4, parameter 1 = 0x2005 ("contains unsupported relocs")',
    },
    messages: {
      type: '{count} base relocation(s) of type {type} (first at RVA {rva}); Windows 10 1507–1607 did not support this type in an HVCI-loaded image.',
    },
  },
  check(image, ctx) {
    if (!includesPre1703(ctx.options.targetOs)) return;
    const expected = image.is64 ? IMAGE_REL_BASED_DIR64 : IMAGE_REL_BASED_HIGHLOW;
    const byType = new Map<number, { count: number; first: number; entryFileOffset?: number }>();
    for (const r of image.baseRelocations.entries) {
      if (r.type === IMAGE_REL_BASED_ABSOLUTE || r.type === expected) continue;
      const seen = byType.get(r.type);
      if (seen) seen.count++;
      else byType.set(r.type, { count: 1, first: r.rva, ...(r.entryFileOffset === undefined ? {} : { entryFileOffset: r.entryFileOffset }) });
    }
    for (const [type, info] of byType) {
      const name = RELOCATION_TYPE_NAMES[type] ?? String(type);
      ctx.report(
        'type',
        { count: info.count, type: name, rva: hex(info.first) },
        {
          rva: info.first,
          ...(info.entryFileOffset === undefined ? {} : { fileOffset: info.entryFileOffset }),
          evidence: { relocationType: name, typeValue: type, count: info.count, expected: RELOCATION_TYPE_NAMES[expected] },
        },
      );
    }
  },
});
