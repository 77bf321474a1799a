/**
 * MDLs that describe code (rule book §8 code-patching): `IoAllocateMdl(VirtualAddress, …)`
 * where VirtualAddress is a kernel routine — looked up with MmGetSystemRoutineAddress, or an
 * imported function's address read from the IAT — or the driver's own code. Describing code
 * with an MDL is the first step of the classic patch (probe/lock or build the MDL, map it
 * writable or MmProtectMdlSystemAddress(PAGE_READWRITE), copy the patch in); under HVCI code
 * pages are never writable, through any mapping.
 */
import { hex, isExecutable } from '../pe/index.js';
import { findImportCallSites } from './call-sites.js';
import type { CodeModel } from './code-model.js';
import { argumentLocation, RETURN_VALUE, resolveBefore } from './dataflow.js';
import type { RoutineLookup } from './dynamic-lookup.js';
import { functionName } from './functions.js';
import type { PrivilegedWrite } from './privileged-writes.js';

export interface CodeMdl extends PrivilegedWrite {
  /** What the MDL describes: "KeBugCheckEx (MmGetSystemRoutineAddress)", "own code sub_1000". */
  describes: string;
  kind: 'looked-up routine' | 'imported routine' | 'own code';
}

export function findCodeMdls(model: CodeModel, lookups: readonly RoutineLookup[]): CodeMdl[] {
  const sites = findImportCallSites(model, { apis: new Set(['IoAllocateMdl']) });
  if (sites.length === 0) return [];
  const lookupAt = new Map(lookups.map((l) => [l.callRva, l]));
  const out: CodeMdl[] = [];
  for (const site of sites) {
    const code = model.code(site.fn);
    const index = code.indexOf.get(site.callRva);
    if (index === undefined) continue;
    let loc = argumentLocation(model.arch, 1, 0, model.pointerSize);
    if (site.tail && loc.k === 'mem') loc = { ...loc, off: loc.off + model.pointerSize };
    for (const v of resolveBefore(model, code, index, loc)) {
      const o = v.origin;
      let found: Pick<CodeMdl, 'describes' | 'kind'> | undefined;
      if (o.kind === 'unknown' && o.reason === RETURN_VALUE && v.trace[0] !== undefined && lookupAt.has(v.trace[0])) {
        const l = lookupAt.get(v.trace[0]) as RoutineLookup;
        found = { kind: 'looked-up routine', describes: `${l.name ?? 'a routine'} (looked up by MmGetSystemRoutineAddress at ${hex(l.callRva)})` };
      } else if (o.kind === 'global' && model.importSlots.has(o.rva)) {
        const slot = model.importSlots.get(o.rva);
        found = { kind: 'imported routine', describes: `${slot?.name ?? 'an import'} (${slot?.dll ?? '?'}, address read from the IAT)` };
      } else if (o.kind === 'address') {
        const section = model.image.space.sectionAt(o.rva);
        if (section && isExecutable(section)) {
          const fn = model.functions.containing(o.rva);
          found = { kind: 'own code', describes: `the driver's own code${fn ? ` (${functionName(fn)})` : ''} at ${hex(o.rva)}` };
        }
      }
      if (!found) continue;
      const mdl: CodeMdl = {
        rva: site.callRva,
        function: functionName(site.fn),
        functionRva: site.fn.start,
        text: `${model.format(site.callRva)}  ; IoAllocateMdl`,
        context: v.trace.map((rva) => ({ rva, text: model.format(rva) })),
        ...found,
      };
      out.push(mdl);
      break;
    }
  }
  return out;
}
