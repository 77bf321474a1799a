import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const pdbFixtures = join(repoRoot, 'test', 'fixtures', 'pdb', 'bin');

/** What llvm-pdbutil printed for one fixture PDB at build time (bin/<name>.pdbutil.txt). */
export interface PdbutilDump {
  guid: string;
  age: number;
  modules: Array<{
    name: string;
    files: string[];
    /** Line table entries: [file, section, offset in section, line]. */
    lines: Array<[string, number, number, number]>;
    inlinees: Array<{ id: number; line: number; file: string }>;
    procedures: Array<{ kind: string; name: string; section: number; offset: number; length: number }>;
    /** Inline sites: ranges [start, end) relative to the enclosing procedure, with their line offset. */
    inlineSites: Array<{ inlinee: number; procedure: string; ranges: Array<{ start: number; end: number; lineOffset: number }> }>;
  }>;
  publics: Array<{ name: string; isFunction: boolean; section: number; offset: number }>;
  contributions: Array<{ module: number; section: number; offset: number; size: number }>;
  sectionMap: Array<{ frame: number; offset: number; length: number }>;
}

type Module = PdbutilDump['modules'][number];

/** Parses the parts of `llvm-pdbutil dump -summary -modules -files -l -il -symbols -publics -section-contribs -section-map` the tests use. */
export function pdbutilDump(name: string): PdbutilDump {
  const text = readFileSync(join(pdbFixtures, `${name}.pdbutil.txt`), 'utf8');
  const dump: PdbutilDump = { guid: '', age: -1, modules: [], publics: [], contributions: [], sectionMap: [] };
  let frame: number | undefined;
  let part = '';
  let module: Module | undefined;
  let file = '';
  let lastPublic: string | undefined;
  let procedure: Module['procedures'][number] | undefined;
  let pendingProc: string | undefined;
  let site: Module['inlineSites'][number] | undefined;
  let code = 0;
  let lineOffset = 0;
  const moduleNamed = (n: string): Module => {
    let m = dump.modules.find((x) => x.name === n);
    if (!m) {
      m = { name: n, files: [], lines: [], inlinees: [], procedures: [], inlineSites: [] };
      dump.modules.push(m);
    }
    return m;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const heading = /^\s{10,}(Summary|Modules|Files|Lines|Inlinee Lines|Public Symbols|Symbols|Section Contributions|Section Map)$/.exec(line);
    if (heading) {
      part = heading[1] as string;
      continue;
    }
    const mod = /^\s*Mod \d+ \| `(.*)`:$/.exec(line);
    if (mod) {
      module = moduleNamed(mod[1] as string);
      continue;
    }
    let m: RegExpExecArray | null;
    if (part === 'Section Contributions' && (m = /^\s+SC\[.*\]\s+\| mod = (\d+), (\d+):(\d+), size = (\d+),/.exec(line))) {
      dump.contributions.push({ module: Number(m[1]), section: Number(m[2]), offset: Number(m[3]), size: Number(m[4]) });
      continue;
    }
    if (part === 'Section Map') {
      if ((m = /frame = (\d+),/.exec(line))) frame = Number(m[1]);
      else if (frame !== undefined && (m = /offset = (\d+), size = (\d+)$/.exec(line))) {
        dump.sectionMap.push({ frame, offset: Number(m[1]), length: Number(m[2]) });
        frame = undefined;
      }
      continue;
    }
    if (part === 'Summary') {
      if ((m = /GUID: \{(.*)\}/.exec(line))) dump.guid = m[1] as string;
      if ((m = /^\s*Age: (\d+)/.exec(line))) dump.age = Number(m[1]);
    } else if (part === 'Files' && module && (m = /^- \(MD5: \w+\) (.*)$/.exec(line))) {
      module.files.push(m[1] as string);
    } else if (part === 'Lines' && module) {
      if ((m = /^(\S.*) \(MD5: \w+\)$/.exec(line))) file = m[1] as string;
      else if ((m = /^\s+(\w{4}):\w{8}-\w{8}, line\/addr entries/.exec(line))) code = parseInt(m[1] as string, 16);
      else if (/^\s+\d+ [0-9A-F]{8} /.test(line)) {
        for (const e of line.matchAll(/(\d+) ([0-9A-F]{8}) [!\s]/g)) module.lines.push([file, code, parseInt(e[2] as string, 16), Number(e[1])]);
      }
    } else if (part === 'Inlinee Lines' && module && (m = /^\s+0x([0-9A-F]+) \|\s+(\d+) \| (.*) \(MD5/.exec(line))) {
      module.inlinees.push({ id: parseInt(m[1] as string, 16), line: Number(m[2]), file: m[3] as string });
    } else if (part === 'Public Symbols') {
      if ((m = /S_PUB32 \[size = \d+\] `(.*)`$/.exec(line))) lastPublic = m[1] as string;
      else if (lastPublic !== undefined && (m = /flags = (.*), addr = (\d+):(\d+)$/.exec(line))) {
        dump.publics.push({ name: lastPublic, isFunction: /function/.test(m[1] as string), section: Number(m[2]), offset: Number(m[3]) });
        lastPublic = undefined;
      }
    } else if (part === 'Symbols' && module) {
      if ((m = /\| (S_[GL]PROC32) \[size = \d+\] `(.*)`$/.exec(line))) pendingProc = `${m[1]}\t${m[2]}`;
      else if (pendingProc && (m = /addr = (\d+):(\d+), code size = (\d+)$/.exec(line))) {
        const [kind, name] = pendingProc.split('\t') as [string, string];
        procedure = { kind, name, section: Number(m[1]), offset: Number(m[2]), length: Number(m[3]) };
        module.procedures.push(procedure);
        pendingProc = undefined;
      } else if ((m = /inlinee = 0x([0-9A-F]+) /.exec(line)) && procedure) {
        site = { inlinee: parseInt(m[1] as string, 16), procedure: procedure.name, ranges: [] };
        module.inlineSites.push(site);
        code = 0;
        lineOffset = 0;
      } else if (site && (m = /^\s+[0-9A-F]+\s+code 0x([0-9A-F]+) \(\+0x[0-9A-F]+\)(?: line (-?\d+) \([+-]?\d+\))?$/.exec(line))) {
        code = parseInt(m[1] as string, 16);
        if (m[2] !== undefined) lineOffset = Number(m[2]);
        const prev = site.ranges.at(-1);
        if (prev && prev.end < 0) prev.end = code;
        site.ranges.push({ start: code, end: -1, lineOffset });
      } else if (site && (m = /^\s+[0-9A-F]+\s+code end 0x([0-9A-F]+)/.exec(line))) {
        const prev = site.ranges.at(-1);
        if (prev) prev.end = parseInt(m[1] as string, 16);
      } else if (/S_INLINESITE_END/.test(line)) site = undefined;
    }
  }
  return dump;
}
