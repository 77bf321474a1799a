/**
 * `hvci explain`: what Windows said, what it means for Memory Integrity (HVCI), which of our
 * rules it corresponds to, and what to change. Pure text in, explanations out; reading
 * files and stdin, and locating a caller address in a driver, happen in src/cli.
 *
 * Recognised (rule book §5–§7; samples in ../shared/data/windows-outputs):
 *   bugcheck-c4            bug check 0xC4 as `!analyze -v` text, a pasted Arg list, the
 *                          `BugCheck C4, {…}` line, or just numbers ("c4 2000 fffff… 0 484d454d")
 *   verifier-message       "Verifier Detected a Code Integrity Issue" and its message lines
 *   verifier-flags         `!verifier` / `verifier /querysettings` flag lists (is 0x02000000 on?)
 *   verifier-counters      code-integrity counters (ExecutePoolTypes …) from `verifier /query`
 *   hvciscan               hvciscan.exe output (format documented by third parties only)
 *   dg-readiness           DG_Readiness_Tool -Capable output (driver compatibility step)
 *   deviceguard-wmi        Win32_DeviceGuard (Get-CimInstance) properties
 *   computerinfo           Get-ComputerInfo DeviceGuard* properties
 *   codeintegrity-event    Microsoft-Windows-CodeIntegrity/Operational events
 *   incompatible-drivers   "Review incompatible drivers" lists (driver .sys / oemNN.inf)
 *   pnputil                `pnputil -e` driver package lists (any language)
 */
import { ruleById, type RuleId } from '../rules/index.js';
import {
  hexOf,
  isExecutablePoolType,
  isExecutableProtection,
  lacksMdlNoExecute,
  nxPoolType,
  nxProtection,
  poolTagText,
  poolTypeName,
  priorityName,
  protectionName,
} from './values.js';

export type ExplainKind =
  | 'bugcheck-c4'
  | 'verifier-message'
  | 'verifier-flags'
  | 'verifier-counters'
  | 'hvciscan'
  | 'dg-readiness'
  | 'deviceguard-wmi'
  | 'computerinfo'
  | 'codeintegrity-event'
  | 'incompatible-drivers'
  | 'pnputil';

export interface DecodedValue {
  name: string;
  value: string;
  meaning: string;
}

export interface Explanation {
  kind: ExplainKind;
  /** One line: what this is. */
  title: string;
  /** Whether it reports a code-integrity (HVCI) problem or state. */
  codeIntegrity: boolean;
  /** Our rule ids that correspond (empty when none does). */
  /** The hvci rules that check for it (typed: an id outside the registry does not compile). */
  ruleIds: RuleId[];
  /** What it means, in a few sentences. */
  meaning: string;
  values: DecodedValue[];
  /** What to do. */
  fix: string;
  /** An address in the driver's code (bug check 0x2000–0x2002, verifier caller messages). */
  callerAddress?: string;
  /** The section Windows named (0x2003–0x2005 messages). */
  sectionName?: string;
  /** Driver files named in the text. */
  drivers?: string[];
  /** Driver packages (oemNN.inf) named in the text. */
  packages?: string[];
  notes?: string[];
}

const SCAN_HINT = 'Run `hvci scan <driver.sys>` on the driver binary to see every place it breaks HVCI, with the fix for each.';

/** All explanations found in the text, most specific first; empty when nothing is recognised. */
export function explain(text: string): Explanation[] {
  const t = text.replace(/\r\n?/g, '\n');
  const out: Explanation[] = [];
  for (const detect of DETECTORS) {
    const e = detect(t);
    if (e) out.push(e);
  }
  return out;
}

type Detector = (text: string) => Explanation | undefined;

// ---------------------------------------------------------------- bug check 0xC4

interface CiCode {
  title: string;
  ruleIds: RuleId[];
  /** When Windows checks it: at run time, in the API call ('call'), or when the image loads ('load'). */
  when: 'call' | 'load';
  args: [string, string, string];
}

/** Bug check 0xC4 parameter 1 values of the code-integrity option (rule book §5). */
const CI_CODES: Record<number, CiCode> = {
  0x2000: {
    title: 'Code integrity: the caller specified an executable pool type (expected NonPagedPoolNx)',
    ruleIds: ['execute-pool-type'],
    when: 'call',
    args: ['address in the driver code that requested it', 'pool type', 'pool tag'],
  },
  0x2001: {
    title: 'Code integrity: the caller specified an executable page protection',
    ruleIds: ['execute-page-protection'],
    when: 'call',
    args: ['address in the driver code that requested it', 'page protection (WIN32_PROTECTION_MASK)', '(zero)'],
  },
  0x2002: {
    title: 'Code integrity: the caller specified an executable MDL mapping (expected MdlMappingNoExecute)',
    ruleIds: ['execute-page-mapping'],
    when: 'call',
    args: ['address in the driver code that requested it', 'page priority (MM_PAGE_PRIORITY | MdlMapping*)', '(zero)'],
  },
  0x2003: {
    title: 'Code integrity: the image contains an executable and writable section',
    ruleIds: ['execute-write-section'],
    when: 'load',
    args: ['image name (PUNICODE_STRING)', 'section header address', 'section name (char*)'],
  },
  0x2004: {
    title: 'Code integrity: the image contains a section that is not page aligned',
    ruleIds: ['section-alignment'],
    when: 'load',
    args: ['image name (PUNICODE_STRING)', 'section header address', 'section name (char*)'],
  },
  0x2005: {
    title: 'Code integrity: the image has its IAT in an executable section (older builds: straddled or unsupported relocations)',
    // hvci has no rule for unsupported relocation types (the rule book's unsupported-relocation-type).
    ruleIds: ['iat-in-executable-section', 'straddling-relocation'],
    when: 'load',
    args: ['image name (PUNICODE_STRING)', 'IAT data-directory address (older builds: relocation block address)', 'section name (older builds: relocation entry address)'],
  },
  0x2006: {
    title: 'Code integrity (older builds): the image has its IAT in an executable section',
    ruleIds: ['iat-in-executable-section'],
    when: 'load',
    args: ['image name (PUNICODE_STRING)', 'IAT data-directory address', 'section name (char*)'],
  },
};

/** The fix for a rule's problem: the rule's own resolution, so explain and scan never disagree. */
const fixOf = (id: RuleId): string => ruleById(id).meta.docs.resolution;

const parseNumber = (s: string): bigint | undefined => {
  const clean = s.replace(/[`_]/g, '').replace(/\.$/, '');
  if (!/^(0x)?[0-9a-f]+$/i.test(clean)) return undefined;
  return BigInt(clean.toLowerCase().startsWith('0x') ? clean : `0x${clean}`);
};

/** Arg1..Arg4 from `!analyze`, a pasted list, `BugCheck C4, {a, b, c, d}` or bare numbers. */
function bugcheckArgs(text: string): { args: bigint[]; descriptions: string[] } | undefined {
  const args: bigint[] = [];
  const descriptions: string[] = [];
  for (let i = 1; i <= 4; i++) {
    const m = new RegExp(`Arg${i}\\s*:\\s*((?:0x)?[0-9a-f\`]+\\.?)(?:\\s*,\\s*([^\\n]*))?`, 'i').exec(text);
    if (!m) break;
    const v = parseNumber(m[1] as string);
    if (v === undefined) break;
    args.push(v);
    descriptions.push((m[2] ?? '').trim());
  }
  if (args.length >= 1 && /\b(?:0x)?c4\b|DRIVER_VERIFIER_DETECTED_VIOLATION/i.test(text)) return { args, descriptions };
  const braces = /BugCheck\s+(?:0x)?(?:0*)c4\s*,\s*\{([^}]*)\}/i.exec(text);
  const list = braces ? braces[1] : /^\s*(?:bug\s*check\s*)?(?:0x)?0*c4\b[\s,:]+((?:(?:0x)?[0-9a-f`]+[\s,]*){1,4})\s*$/im.exec(text)?.[1];
  if (list === undefined) return undefined;
  const values = list.split(/[\s,]+/).filter(Boolean).map(parseNumber);
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return { args: values as bigint[], descriptions: [] };
}

const detectBugcheck: Detector = (text) => {
  const parsed = bugcheckArgs(text);
  if (!parsed) return undefined;
  const [p1, p2, p3, p4] = parsed.args;
  const code = CI_CODES[Number(p1)];
  const argText = parsed.args.map((a, i) => `Arg${i + 1} ${hexOf(a)}`).join(', ');
  if (!code || p1 === undefined) {
    const said = parsed.descriptions[0];
    return {
      kind: 'bugcheck-c4',
      title: `Bug check 0xC4 (DRIVER_VERIFIER_DETECTED_VIOLATION), parameter 1 = ${hexOf(p1 ?? 0n)}: not a code-integrity (HVCI) violation`,
      codeIntegrity: false,
      ruleIds: [],
      meaning:
        `Driver Verifier stopped the system for a violation of another of its checks${said ? ` ("${said}")` : ''}. ` +
        'Code-integrity (HVCI) violations use parameter 1 = 0x2000–0x2006; this one is not about Memory Integrity, and no hvci rule covers it.',
      values: parsed.args.map((a, i) => ({ name: `Arg${i + 1}`, value: hexOf(a), meaning: parsed.descriptions[i] || '' })),
      fix: 'Look up this parameter 1 in the bug check 0xC4 reference and debug it as a Verifier issue; HVCI compatibility is a separate question (hvci scan).',
      notes: [`Parsed: ${argText}.`],
    };
  }
  const values: DecodedValue[] = [{ name: 'Arg1', value: hexOf(p1), meaning: code.title }];
  const e: Explanation = {
    kind: 'bugcheck-c4',
    title: `Bug check 0xC4, parameter 1 = ${hexOf(p1)}: ${code.title}`,
    codeIntegrity: true,
    ruleIds: code.ruleIds,
    meaning: '',
    values,
    fix: code.ruleIds[0] ? fixOf(code.ruleIds[0]) : SCAN_HINT,
  };
  const argMeaning = (i: number) => code.args[i] as string;
  if (p2 !== undefined) values.push({ name: 'Arg2', value: hexOf(p2), meaning: argMeaning(0) });
  if (p3 !== undefined) values.push({ name: 'Arg3', value: hexOf(p3), meaning: argMeaning(1) });
  if (p4 !== undefined) values.push({ name: 'Arg4', value: hexOf(p4), meaning: argMeaning(2) });
  const n1 = Number(p1);
  if (n1 <= 0x2002 && p2 !== undefined) e.callerAddress = hexOf(p2);
  if (n1 === 0x2000 && p3 !== undefined) {
    const pt = Number(p3 & 0xffffffffn);
    (values[2] as DecodedValue).meaning = `pool type ${poolTypeName(pt)} (${hexOf(pt)})${isExecutablePoolType(pt) ? ': executable non-paged pool' : ''}`;
    e.meaning =
      `A driver asked for ${poolTypeName(pt)} (${hexOf(pt)}), which is executable non-paged pool. Under Memory Integrity kernel memory is never both writable and executable, ` +
      'so Driver Verifier\'s code-integrity check stops the system at the allocation.';
    e.fix = `Pass ${nxPoolType(pt)} instead (or POOL_FLAG_NON_PAGED for ExAllocatePool2/3), or build with POOL_NX_OPTIN=1 and call ExInitializeDriverRuntime(DrvRtPoolNxOptIn) in DriverEntry.`;
    if (p4 !== undefined) {
      const tag = poolTagText(p4);
      (values[3] as DecodedValue).meaning = tag ? `pool tag '${tag}' (as it reads in memory; search the driver source for this tag)` : 'pool tag (none)';
    }
  } else if (n1 === 0x2001 && p3 !== undefined) {
    const p = Number(p3 & 0xffffffffn);
    (values[2] as DecodedValue).meaning = `page protection ${protectionName(p)} (${hexOf(p)})${isExecutableProtection(p) ? ': executable' : ''}`;
    e.meaning = `A driver asked for memory with ${protectionName(p)} (${hexOf(p)}), an executable protection. Under Memory Integrity the hypervisor will not make such kernel memory executable.`;
    e.fix = `Pass ${nxProtection(p)} instead.`;
  } else if (n1 === 0x2002 && p3 !== undefined) {
    const pr = Number(p3 & 0xffffffffn);
    (values[2] as DecodedValue).meaning = `page priority ${priorityName(pr)} (${hexOf(pr)})${lacksMdlNoExecute(pr) ? ': MdlMappingNoExecute missing' : ''}`;
    e.meaning = `A driver mapped an MDL with priority ${priorityName(pr)} (${hexOf(pr)}), without MdlMappingNoExecute, so the mapping would be executable.`;
    e.fix = `Pass ${priorityName((pr | 0x40000000) >>> 0)} (${hexOf((pr | 0x40000000) >>> 0)}): OR MdlMappingNoExecute into the priority of MmGetSystemAddressForMdlSafe / MmMapLockedPagesSpecifyCache.`;
  } else if (code.when === 'call') {
    // Only the code (or not the value) was given: say what the check is and what the
    // arguments would be, without pretending to know the value.
    e.meaning =
      `${code.title}. Windows checks this at run time, when the driver calls the API: Arg2 is the ${code.args[0]}, ` +
      `Arg3 the ${code.args[1]}${code.args[2].startsWith('(') ? '' : `, Arg4 the ${code.args[2]}`}. Paste all four arguments to have the value decoded, and scan the driver (hvci scan) to find the call.`;
  } else {
    e.meaning = `${code.title}. Windows checks this when the driver image loads; the image itself must be rebuilt. Arg2–Arg4 are kernel pointers (the image name, the header, the section name) — readable in the debugger (\`dS\`, \`da\`), not meaningful outside it.`;
    if (n1 === 0x2005) {
      e.notes = [
        'Parameter 1 0x2005 means "IAT in an executable section" in current Windows, but "straddled or unsupported relocations" in some older builds (rule book §5); the Verifier message text tells which.',
        'hvci checks straddling relocations, not relocation types: for "unsupported relocations" list them with llvm-readobj --coff-basereloc (x64 wants DIR64 only, x86 HIGHLOW only).',
      ];
    }
  }
  if (e.callerAddress) {
    e.notes = [
      ...(e.notes ?? []),
      `Arg2 is the address in the driver that made the call. Give hvci the driver and its load address (\`lm m <driver>\` in WinDbg) to find the function and call site: hvci explain --driver <driver.sys> --base <start address> …`,
    ];
  }
  return e;
};

// ---------------------------------------------------------------- Verifier messages

interface MessagePattern {
  re: RegExp;
  ruleIds: RuleId[];
  build(m: RegExpExecArray): Partial<Explanation> & { title: string; meaning: string; fix: string };
}

const MESSAGES: MessagePattern[] = [
  {
    re: /caller\s+(0x[0-9a-f`]+|[0-9a-f`]{8,})\s+specified an executable pool type\s+(0x[0-9a-f]+|\d+)(?:\s*\(tag\s+(0x[0-9a-f]+)\))?/i,
    ruleIds: ['execute-pool-type'],
    build: (m) => {
      const pt = Number(parseNumber(m[2] as string) ?? 0n);
      const tag = m[3] ? poolTagText(parseNumber(m[3]) ?? 0n) : undefined;
      return {
        title: 'Verifier code-integrity issue: executable pool type',
        meaning: `The driver code at ${hexOf(parseNumber(m[1] as string) ?? 0n)} asked for ${poolTypeName(pt)} (${hexOf(pt)}), which is executable non-paged pool; Memory Integrity does not allow executable kernel allocations.`,
        fix: `Pass ${nxPoolType(pt)} instead (or POOL_FLAG_NON_PAGED for ExAllocatePool2/3), or opt in with POOL_NX_OPTIN=1 + ExInitializeDriverRuntime(DrvRtPoolNxOptIn).`,
        callerAddress: hexOf(parseNumber(m[1] as string) ?? 0n),
        values: [
          { name: 'pool type', value: hexOf(pt), meaning: poolTypeName(pt) },
          ...(m[3] ? [{ name: 'tag', value: m[3], meaning: tag ? `'${tag}'` : '' }] : []),
        ],
      };
    },
  },
  {
    re: /caller\s+(0x[0-9a-f`]+|[0-9a-f`]{8,})\s+specified an executable page protection\s+(0x[0-9a-f]+|\d+)/i,
    ruleIds: ['execute-page-protection'],
    build: (m) => {
      const p = Number(parseNumber(m[2] as string) ?? 0n);
      return {
        title: 'Verifier code-integrity issue: executable page protection',
        meaning: `The driver code at ${hexOf(parseNumber(m[1] as string) ?? 0n)} asked for memory with ${protectionName(p)} (${hexOf(p)}), an executable protection; under Memory Integrity such kernel memory cannot be executable.`,
        fix: `Pass ${nxProtection(p)} instead.`,
        callerAddress: hexOf(parseNumber(m[1] as string) ?? 0n),
        values: [{ name: 'protection', value: hexOf(p), meaning: protectionName(p) }],
      };
    },
  },
  {
    re: /caller\s+(0x[0-9a-f`]+|[0-9a-f`]{8,})\s+specified an executable MDL mapping\s*\(priority\s+(0x[0-9a-f]+|\d+)\)/i,
    ruleIds: ['execute-page-mapping'],
    build: (m) => {
      const pr = Number(parseNumber(m[2] as string) ?? 0n);
      return {
        title: 'Verifier code-integrity issue: executable MDL mapping',
        meaning: `The driver code at ${hexOf(parseNumber(m[1] as string) ?? 0n)} mapped an MDL with priority ${priorityName(pr)} (${hexOf(pr)}), without MdlMappingNoExecute.`,
        fix: fixOf('execute-page-mapping'),
        callerAddress: hexOf(parseNumber(m[1] as string) ?? 0n),
        values: [{ name: 'priority', value: hexOf(pr), meaning: priorityName(pr) }],
      };
    },
  },
  ...(
    [
      ['contains an executable and writable section', 'execute-write-section', 'an executable and writable section'],
      ['contains section\\s+\\S+\\s+that is not page aligned', 'section-alignment', 'a section that is not page aligned'],
      ['contains an IAT,?\\s+\\S+\\s+in executable section', 'iat-in-executable-section', 'its IAT in an executable section'],
    ] as const
  ).map(
    ([phrase, rule, what]): MessagePattern => ({
      re: new RegExp(`image\\s+(\\S+)\\s+${phrase}(?:\\s+\\S+)?\\s*\\(name\\s+([^)]*)\\)`, 'i'),
      ruleIds: [rule],
      build: (m) => ({
        title: `Verifier code-integrity issue: image has ${what}`,
        meaning: `Windows found, while loading ${m[1]}, ${what} (section '${m[2]}'). This is a property of the driver binary: it must be relinked.`,
        fix: fixOf(rule),
        sectionName: m[2] as string,
        drivers: [m[1] as string],
        values: [
          { name: 'image', value: m[1] as string, meaning: 'the driver' },
          { name: 'section', value: m[2] as string, meaning: 'the section Windows names' },
        ],
      }),
    }),
  ),
  {
    re: /image\s+(\S+)\s+contains (straddled|unsupported) relocs/i,
    ruleIds: ['straddling-relocation'],
    build: (m) => ({
      title: `Verifier code-integrity issue (older Windows builds): ${m[2]?.toLowerCase()} relocations`,
      meaning: `${m[1]} has base relocations that Windows 10 1507–1607 refuse under HVCI (${m[2]?.toLowerCase() === 'straddled' ? 'a fix-up that crosses a 4 KiB page' : 'a relocation type other than DIR64/HIGHLOW'}).`,
      fix: fixOf('straddling-relocation'),
      drivers: [m[1] as string],
      values: [],
    }),
  },
];

const detectVerifierMessage: Detector = (text) => {
  const banner = /Verifier Detected a Code Integrity Issue/i.test(text);
  for (const p of MESSAGES) {
    const m = p.re.exec(text);
    if (!m) continue;
    const built = p.build(m);
    return {
      kind: 'verifier-message',
      codeIntegrity: true,
      ruleIds: p.ruleIds,
      values: [],
      ...built,
      notes: banner ? undefined : ['No "Verifier Detected a Code Integrity Issue" banner in the text; recognised by the message alone.'],
    } as Explanation;
  }
  if (banner) {
    return {
      kind: 'verifier-message',
      title: 'Driver Verifier detected a code-integrity issue',
      codeIntegrity: true,
      ruleIds: [],
      meaning: 'The banner is there but not the message line that says which check failed; paste the line starting with "**" under the banner.',
      values: [],
      fix: SCAN_HINT,
    };
  }
  return undefined;
};

// ---------------------------------------------------------------- Verifier settings and counters

const detectVerifierFlags: Detector = (text) => {
  const line = /\[( |X)\]\s*\(0x0?2000000\)\s*Code integrity checks/i.exec(text);
  const level = /Verify Flags Level\s+(0x[0-9a-f]+)/i.exec(text);
  if (!line && !level) return undefined;
  const on = line ? line[1] === 'X' : (Number(parseNumber(level?.[1] as string) ?? 0n) & 0x02000000) !== 0;
  const values: DecodedValue[] = [];
  if (level) values.push({ name: 'Verify Flags Level', value: level[1] as string, meaning: `bit 25 (0x02000000, code integrity checks) is ${on ? 'set' : 'clear'}` });
  if (line) values.push({ name: '0x02000000 Code integrity checks', value: line[1] === 'X' ? '[X]' : '[ ]', meaning: on ? 'enabled' : 'not enabled' });
  return {
    kind: 'verifier-flags',
    title: `Driver Verifier settings: code integrity checks are ${on ? 'ON' : 'OFF'}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning: on
      ? 'Verifier checks this driver for HVCI problems: executable pool, protections and MDL mappings at run time (bug check 0xC4, 0x2000–0x2002) and the image layout at load (0x2003–0x2005).'
      : 'This Verifier configuration does not include the code-integrity option, so it cannot catch HVCI problems: a run with these flags says nothing about Memory Integrity compatibility.',
    values,
    fix: on
      ? 'Exercise the driver; any 0xC4 bug check with parameter 1 0x2000–0x2006 is an HVCI problem (hvci explain decodes it).'
      : 'Add the code-integrity option: verifier /flags 0x02000000 /driver <driver.sys> (or OR 0x02000000 into your flags), reboot, and exercise the driver. Or check the binary statically: hvci scan <driver.sys>.',
  };
};

const COUNTERS: ReadonlyArray<[RegExp, string, RuleId[]]> = [
  [/Execute\s*Pool\s*Types?/i, 'Execute Pool Type', ['execute-pool-type']],
  [/Execute\s*Page\s*Protections?/i, 'Execute Page Protection', ['execute-page-protection']],
  [/Execute\s*Page\s*Mappings?/i, 'Execute Page Mapping', ['execute-page-mapping']],
  [/Execute[-\s]*Write\s*Sections?/i, 'Execute-Write Section', ['execute-write-section']],
  [/Section\s*Alignment\s*Failures?/i, 'Section Alignment Failures', ['section-alignment']],
  [/Unsupported\s*Relocs?/i, 'Unsupported Relocs', ['straddling-relocation']],
  [/IAT\s*In\s*Executable\s*Sections?/i, 'IAT in Executable Section', ['iat-in-executable-section']],
];

const detectVerifierCounters: Detector = (text) => {
  const values: DecodedValue[] = [];
  const rules = new Set<RuleId>();
  for (const [re, name, ids] of COUNTERS) {
    const m = new RegExp(`${re.source}\\s*[:=]?\\s*(0x[0-9a-f]+|\\d+)\\b`, 'i').exec(text);
    if (!m) continue;
    const n = Number(parseNumber(m[1]?.startsWith('0x') ? (m[1] as string) : `0x${Number(m[1]).toString(16)}`) ?? 0n);
    values.push({ name, value: String(n), meaning: n > 0 ? `${n} violation(s) → ${ids.join(', ')}` : 'none' });
    if (n > 0) ids.forEach((id) => rules.add(id));
  }
  if (values.length === 0) return undefined;
  return {
    kind: 'verifier-counters',
    title: `Driver Verifier code-integrity counters: ${rules.size > 0 ? 'violations counted' : 'no violations counted'}`,
    codeIntegrity: true,
    ruleIds: [...rules],
    meaning:
      rules.size > 0
        ? 'Verifier counted code-integrity violations (with the option in "warn only" mode it counts instead of bug-checking). Each non-zero counter is one kind of HVCI incompatibility.'
        : 'Verifier counted no code-integrity violations on the paths exercised so far. Run-time checks only see code that ran; image checks ran at load.',
    values,
    fix: rules.size > 0 ? `${fixOf([...rules][0] as RuleId)} ${SCAN_HINT}` : SCAN_HINT,
    notes: ['No real `verifier /query` output with these counters was available to us; the names follow Microsoft\'s counter list (rule book §5), matched with or without spaces.'],
  };
};

// ---------------------------------------------------------------- hvciscan, DG readiness

const sysNames = (text: string): string[] => [...new Set([...text.matchAll(/\b([\w.-]+\.sys)\b/gi)].map((m) => m[1] as string))];
const infNames = (text: string): string[] => [...new Set([...text.matchAll(/\b(oem\d+\.inf)\b/gi)].map((m) => (m[1] as string).toLowerCase()))];

const detectHvciScan: Detector = (text) => {
  const issues = /VbsGetIssues:\s*(0x[0-9a-f]+)/i.exec(text);
  const recommended = /VbsIsRecommended:\s*([01])/i.exec(text);
  const start = /HVCI incompatible driver scan start/i.test(text);
  const passed = /HVCI incompatible driver scan passed/i.test(text);
  if (!issues && !recommended && !start && !passed) return undefined;
  const drivers = passed ? [] : sysNames(text);
  const values: DecodedValue[] = [];
  if (issues) values.push({ name: 'VbsGetIssues', value: issues[1] as string, meaning: Number(parseNumber(issues[1] as string)) === 0 ? 'no issues' : 'issue bits set (their meaning is not documented publicly)' });
  if (recommended) values.push({ name: 'VbsIsRecommended', value: recommended[1] as string, meaning: recommended[1] === '1' ? 'VBS recommended on this device' : 'not recommended' });
  return {
    kind: 'hvciscan',
    title: passed ? 'hvciscan: no HVCI-incompatible driver found' : `hvciscan: ${drivers.length ? `incompatible driver(s): ${drivers.join(', ')}` : 'scan output'}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning: passed
      ? 'hvciscan found no installed driver that blocks Memory Integrity.'
      : 'hvciscan lists installed drivers that block Memory Integrity. It does not say why; the binaries do.',
    values,
    fix: passed ? 'Nothing to fix for HVCI.' : `${SCAN_HINT} Remove or update the driver package that installs each listed driver.`,
    ...(drivers.length ? { drivers } : {}),
    notes: ['No real hvciscan.exe output was available to us; the line shapes follow a third-party parser\'s documentation (see docs/explain.md).'],
  };
};

const detectDgReadiness: Detector = (text) => {
  if (!/Readiness Tool|Step 1 Driver Compat|Incompatible Drivers found|DeviceGuardCheckLog/i.test(text)) return undefined;
  const none = /No Incompatible Drivers found/i.test(text);
  const drivers = none ? [] : sysNames(text);
  const values: DecodedValue[] = [];
  const secure = /Secure Boot is (present|absent|not present)/i.exec(text);
  if (secure) values.push({ name: 'Secure Boot', value: secure[1] as string, meaning: 'needed for VBS / memory integrity with UEFI lock' });
  if (/HSTI is absent/i.test(text)) values.push({ name: 'HSTI', value: 'absent', meaning: 'firmware security test interface not reported (not required for memory integrity)' });
  const arch = /(\d\d)[- ]bit arch/i.exec(text);
  if (arch) values.push({ name: 'architecture', value: `${arch[1]}-bit`, meaning: arch[1] === '64' ? 'supported' : 'memory integrity needs 64-bit Windows' });
  return {
    kind: 'dg-readiness',
    title: none ? 'DG Readiness Tool: no incompatible drivers found' : `DG Readiness Tool: driver compatibility${drivers.length ? `: ${drivers.join(', ')}` : ''}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning: none
      ? 'Step 1 turned on Driver Verifier\'s code-integrity checks and loaded each module: none failed the load-time checks (W+X sections, alignment, IAT placement). Run-time problems (executable pool, protections, MDL mappings) only show when the code runs.'
      : 'Step 1 turned on Driver Verifier\'s code-integrity checks and loaded each module; the modules it names failed them.',
    values,
    fix: none ? `Nothing blocks memory integrity at load. To cover run-time allocations too: ${SCAN_HINT}` : SCAN_HINT,
    ...(drivers.length ? { drivers } : {}),
  };
};

// ---------------------------------------------------------------- Device Guard state

const SERVICES: Record<number, string> = {
  0: 'none',
  1: 'Credential Guard',
  2: 'memory integrity (HVCI)',
  3: 'System Guard Secure Launch',
  4: 'SMM Firmware Measurement',
  5: 'Kernel-mode Hardware-enforced Stack Protection',
  6: 'Kernel-mode Hardware-enforced Stack Protection (audit)',
  7: 'Hypervisor-Enforced Paging Translation',
};
const PROPERTIES: Record<number, string> = {
  0: 'none',
  1: 'hypervisor support',
  2: 'Secure Boot',
  3: 'DMA protection',
  4: 'Secure Memory Overwrite',
  5: 'NX protections',
  6: 'SMM mitigations',
  7: 'MBEC/GMET',
  8: 'APIC virtualization',
};
const VBS_STATUS: Record<number, string> = { 0: 'VBS not enabled', 1: 'VBS enabled but not running', 2: 'VBS enabled and running' };
const ENFORCEMENT: Record<number, string> = { 0: 'off', 1: 'audit', 2: 'enforced' };

/** "Name : {1, 2, 3, 5...}", "Name {1,3}", "> Name : 2": numbers and whether PowerShell cut the list. */
function property(text: string, name: string): { values: number[]; truncated: boolean; raw: string } | undefined {
  const m = new RegExp(`^[>\\s]*${name}\\s*:?[ \\t]*(\\{[^}\\n]*\\}|\\d+)[ \\t]*$`, 'im').exec(text);
  if (!m) return undefined;
  const raw = m[1] as string;
  return { values: [...raw.matchAll(/\d+/g)].map((x) => Number(x[0])), truncated: raw.includes('...'), raw };
}

const detectDeviceGuard: Detector = (text) => {
  if (!/SecurityServicesRunning|VirtualizationBasedSecurityStatus|SecurityServicesConfigured/i.test(text) || /DeviceGuardSecurityServices/i.test(text)) return undefined;
  const running = property(text, 'SecurityServicesRunning');
  const configured = property(text, 'SecurityServicesConfigured');
  const vbs = property(text, 'VirtualizationBasedSecurityStatus');
  const available = property(text, 'AvailableSecurityProperties');
  const required = property(text, 'RequiredSecurityProperties');
  const list = (p: typeof running, names: Record<number, string>) =>
    p ? `${p.values.map((v) => `${v} ${names[v] ?? '(unknown)'}`).join(', ')}${p.truncated ? ', … (PowerShell cut the list; use `| Format-List *` or ConvertTo-Json to see all)' : ''}` : '';
  const values: DecodedValue[] = [];
  if (vbs) values.push({ name: 'VirtualizationBasedSecurityStatus', value: vbs.raw, meaning: VBS_STATUS[vbs.values[0] ?? -1] ?? 'unknown' });
  if (configured) values.push({ name: 'SecurityServicesConfigured', value: configured.raw, meaning: list(configured, SERVICES) });
  if (running) values.push({ name: 'SecurityServicesRunning', value: running.raw, meaning: list(running, SERVICES) });
  if (available) values.push({ name: 'AvailableSecurityProperties', value: available.raw, meaning: list(available, PROPERTIES) });
  if (required) values.push({ name: 'RequiredSecurityProperties', value: required.raw, meaning: list(required, PROPERTIES) });
  for (const name of ['CodeIntegrityPolicyEnforcementStatus', 'UsermodeCodeIntegrityPolicyEnforcementStatus']) {
    const p = property(text, name);
    if (p) values.push({ name, value: p.raw, meaning: `${ENFORCEMENT[p.values[0] ?? -1] ?? 'unknown'} (not documented by Microsoft; observed values 0 and 2)` });
  }
  const hvciRunning = running?.values.includes(2) ?? false;
  const hvciConfigured = configured?.values.includes(2) ?? false;
  const vbsRunning = vbs?.values[0] === 2;
  const title = hvciRunning
    ? 'Win32_DeviceGuard: memory integrity (HVCI) is running'
    : hvciConfigured
      ? 'Win32_DeviceGuard: memory integrity is configured but NOT running'
      : 'Win32_DeviceGuard: memory integrity is not configured';
  const meaning = hvciRunning
    ? 'SecurityServicesRunning contains 2: HVCI is enforced on this machine, so every kernel driver that loads passed its checks.'
    : hvciConfigured
      ? `SecurityServicesConfigured contains 2 but SecurityServicesRunning does not: memory integrity was turned on but is not enforced${vbsRunning ? '' : `, and ${VBS_STATUS[vbs?.values[0] ?? -1] ?? 'VBS state unknown'}`}. Common causes: the hardware lacks a requirement (hypervisor, Secure Boot, MBEC/GMET), the reboot is pending, or Windows turned it off because an incompatible boot driver would not load.`
      : 'Memory integrity is not configured (SecurityServicesConfigured lacks 2).';
  return {
    kind: 'deviceguard-wmi',
    title,
    codeIntegrity: true,
    ruleIds: [],
    meaning,
    values,
    fix: hvciRunning
      ? 'Nothing to do.'
      : hvciConfigured
        ? 'Check Windows Security → Device security → Core isolation for incompatible drivers and the CodeIntegrity/Operational log; check each driver it names with hvci scan.'
        : 'Turn on memory integrity (Windows Security → Core isolation), after checking your drivers with hvci scan.',
  };
};

const detectComputerInfo: Detector = (text) => {
  if (!/DeviceGuard(SecurityServicesRunning|SmartStatus|SecurityServicesConfigured)/i.test(text)) return undefined;
  const get = (name: string) => new RegExp(`^\\s*${name}\\s*:[ \\t]*(.*)$`, 'im').exec(text)?.[1]?.trim();
  const running = get('DeviceGuardSecurityServicesRunning');
  const configured = get('DeviceGuardSecurityServicesConfigured');
  const smart = get('DeviceGuardSmartStatus');
  const hvci = /HypervisorEnforcedCodeIntegrity/i.test(running ?? '');
  const values: DecodedValue[] = [];
  if (smart !== undefined) values.push({ name: 'DeviceGuardSmartStatus', value: smart || '(empty)', meaning: smart === 'Off' ? 'Device Guard / VBS off' : '' });
  values.push({ name: 'DeviceGuardSecurityServicesConfigured', value: configured || '(empty)', meaning: configured ? '' : 'nothing configured' });
  values.push({ name: 'DeviceGuardSecurityServicesRunning', value: running || '(empty)', meaning: hvci ? 'memory integrity running' : 'memory integrity not running' });
  return {
    kind: 'computerinfo',
    title: `Get-ComputerInfo: memory integrity is ${hvci ? 'running' : 'not running'}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning: hvci
      ? 'DeviceGuardSecurityServicesRunning lists HypervisorEnforcedCodeIntegrity: HVCI is enforced.'
      : 'The DeviceGuard* properties name no running service (empty or without HypervisorEnforcedCodeIntegrity): virtualization-based security and memory integrity are off on this machine.',
    values,
    fix: hvci ? 'Nothing to do.' : 'Check your drivers with hvci scan before turning memory integrity on (Windows Security → Core isolation).',
  };
};

// ---------------------------------------------------------------- CodeIntegrity events

const EVENTS: Record<number, { text: string; hvci: boolean; ruleIds?: RuleId[] }> = {
  3001: { text: 'an unsigned driver attempted to load', hvci: false },
  3004: { text: 'a file could not be verified (page hash not found), e.g. a kernel driver with an invalid signature', hvci: false },
  3023: { text: 'a driver file did not meet the application-control policy requirements', hvci: false },
  3033: { text: 'a file did not meet the signing level requirements (or its signature was revoked or expired)', hvci: false },
  3034: { text: 'audit mode: a file would not have met the signing level requirements', hvci: false },
  3074: { text: 'page hash failure while hypervisor-protected code integrity was enabled', hvci: true },
  3076: { text: 'audit mode: a file would have been blocked by a policy', hvci: false },
  3077: { text: 'a file was blocked by a policy (e.g. "Microsoft Windows Driver Policy", the vulnerable driver blocklist)', hvci: false },
  3082: { text: 'audit mode: a non-WHQL driver would have been blocked', hvci: false },
  3084: { text: 'WHQL driver signing enforcement is on for this boot', hvci: false },
  3085: { text: 'WHQL driver signing enforcement is off for this boot', hvci: false },
  3089: { text: 'signature information for a correlated event', hvci: false },
  3090: { text: 'ISG / managed-installer diagnostic', hvci: false },
  3091: { text: 'ISG / managed-installer diagnostic (audit)', hvci: false },
  3092: { text: 'ISG / managed-installer diagnostic (enforced)', hvci: false },
  3096: { text: 'a policy refresh found no change in the active Code Integrity policy', hvci: false },
  3099: { text: 'a Code Integrity policy was loaded', hvci: false },
  3111: {
    text: "the file under validation didn't meet the hypervisor-protected code integrity (HVCI) policy",
    hvci: true,
    ruleIds: ['execute-write-section', 'section-alignment', 'iat-in-executable-section'],
  },
};

const EVENT_TEXTS: ReadonlyArray<[RegExp, number]> = [
  [/did not meet the Windows signing level requirements|did not meet the .*signing level/i, 3033],
  [/Code Integrity will enable WHQL driver enforcement/i, 3084],
  [/Code Integrity will disable WHQL driver enforcement/i, 3085],
  [/No change in active Code Integrity policy/i, 3096],
  [/Page hash failure while hypervisor-protected code integrity was enabled/i, 3074],
  [/didn'?t meet the hypervisor-protected code integrity \(HVCI\) policy/i, 3111],
];

const detectCodeIntegrityEvent: Detector = (text) => {
  const ids = new Set<number>();
  for (const m of text.matchAll(/Event ID\s*:?\s*(\d{4})\b[^\n]*?(?:CodeIntegrity|Code Integrity)|(?:CodeIntegrity|Code Integrity)[^\n]*?\bEvent ID\s*:?\s*(\d{4})\b/gi)) {
    ids.add(Number(m[1] ?? m[2]));
  }
  for (const m of text.matchAll(/\bevent (\d{4})\b/gi)) if (/code ?integrity/i.test(text)) ids.add(Number(m[1]));
  for (const [re, id] of EVENT_TEXTS) if (re.test(text)) ids.add(id);
  const known = [...ids].filter((id) => id >= 3000 && id < 3200).sort();
  if (known.length === 0) return undefined;
  const hvci = known.some((id) => EVENTS[id]?.hvci);
  const files = [...new Set([...text.matchAll(/attempted to load\s+(.+?)\s+that did not/gi)].map((m) => m[1] as string))];
  const settings = /Settings\s+(0x[0-9a-f]+)/i.exec(text);
  const values: DecodedValue[] = known.map((id) => ({
    name: `event ${id}`,
    value: String(id),
    meaning: EVENTS[id]?.text ?? 'not in Microsoft\'s list of CodeIntegrity event ids; meaning unverified',
  }));
  if (settings) values.push({ name: 'Settings', value: settings[1] as string, meaning: 'code-integrity option bits (not documented event by event)' });
  const notes: string[] = [];
  if (/description for Event ID \d+ .* cannot be found/i.test(text)) {
    notes.push('Event Viewer could not find the message template, so it shows the raw insertion strings; the event id still says what happened.');
  }
  return {
    kind: 'codeintegrity-event',
    title: `CodeIntegrity event${known.length > 1 ? 's' : ''} ${known.join(', ')}: ${hvci ? 'a memory-integrity (HVCI) event' : 'not a memory-integrity (HVCI) event'}`,
    codeIntegrity: hvci,
    ruleIds: [...new Set(known.flatMap((id) => EVENTS[id]?.ruleIds ?? []))],
    meaning: hvci
      ? `Windows logged ${known.map((id) => `${id} (${EVENTS[id]?.text ?? '?'})`).join('; ')}: with memory integrity on, a file failed the hypervisor's code-integrity checks.`
      : `Windows logged ${known.map((id) => `${id} (${EVENTS[id]?.text ?? 'unknown'})`).join('; ')}. This is about signing or policy, not about HVCI compatibility of the code.`,
    values,
    fix: hvci
      ? `${SCAN_HINT} Event 3111/3074 name the file; check it, and update or remove the driver.`
      : 'Fix the signature or the policy (sign the file properly, update it, or adjust the App Control policy); memory integrity is not what blocked it.',
    ...(files.length ? { drivers: files } : {}),
    ...(notes.length ? { notes } : {}),
  };
};

// ---------------------------------------------------------------- driver lists

const detectIncompatibleDrivers: Detector = (text) => {
  if (!/incompatib|비호환|prevent(?:s|ing)? Memory Integrity|Memory Integrity|core isolation/i.test(text)) return undefined;
  if (/DRIVER_VERIFIER_DETECTED_VIOLATION|Readiness Tool|hvciscan|HVCI incompatible driver scan/i.test(text)) return undefined;
  const drivers = sysNames(text);
  if (drivers.length === 0) return undefined;
  const packages = infNames(text);
  const version = /\.sys\b[^\n]*?version\s+([\d.]+)/i.exec(text)?.[1];
  return {
    kind: 'incompatible-drivers',
    title: `Memory integrity blocked by: ${drivers.join(', ')}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning:
      'Windows Security (Core isolation → Memory integrity → Review incompatible drivers) lists installed drivers that would not load with memory integrity on, so it refuses to turn it on. ' +
      'The list names the driver file and the driver-store package (oemNN.inf), not the reason.',
    values: [
      ...drivers.map((d) => ({ name: 'driver', value: d, meaning: version ? `version ${version}` : 'incompatible driver file' })),
      ...packages.map((p) => ({ name: 'package', value: p, meaning: 'published driver package that installs it' })),
    ],
    fix:
      `${SCAN_HINT} Find the file under C:\\Windows\\System32\\DriverStore\\FileRepository. If the device is gone or the driver unused, remove the package: ` +
      `pnputil /delete-driver ${packages[0] ?? 'oemNN.inf'} /uninstall; otherwise ask the vendor for an HVCI-compatible version.`,
    drivers,
    ...(packages.length ? { packages } : {}),
  };
};

const PUBLISHED = /^(?:Published name|发布名称|Опубликованное имя|Nom publié|Veröffentlichter Name)\s*:?\s*(\S*)\s*$/im;

const detectPnputil: Detector = (text) => {
  if (!PUBLISHED.test(text) && !/pnputil\s+(-e|\/enum-drivers)/i.test(text)) return undefined;
  // Values may sit on the line after their label (Russian output wraps them).
  const lines = text.split('\n');
  const packages: Array<{ inf: string; provider?: string; date?: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(PUBLISHED.source, 'i').exec(lines[i] as string);
    if (!m) continue;
    const inf = m[1] || (lines[i + 1] ?? '').trim();
    if (!/^oem\d+\.inf$/i.test(inf)) continue;
    const rest = lines.slice(i + 1, i + 8).join('\n');
    const provider = /(?:provider|提供程序|Поставщик[^:]*)\s*:\s*(.+)/i.exec(rest)?.[1]?.trim();
    const date = /(\d\d\/\d\d\/\d{4}\s+[\d.]+)/.exec(rest)?.[1];
    packages.push({ inf: inf.toLowerCase(), ...(provider ? { provider } : {}), ...(date ? { date } : {}) });
  }
  return {
    kind: 'pnputil',
    title: `pnputil driver package list: ${packages.length} third-party package${packages.length === 1 ? '' : 's'}`,
    codeIntegrity: false,
    ruleIds: [],
    meaning:
      'pnputil -e lists the third-party driver packages in the driver store (published as oemNN.inf). It says nothing about memory integrity by itself; ' +
      'it is how you map the oemNN.inf that "Review incompatible drivers" shows to a vendor and version.',
    values: packages.map((p) => ({ name: p.inf, value: p.provider ?? '', meaning: p.date ? `driver date and version ${p.date}` : '' })),
    fix: 'For a package Windows Security names as incompatible: check its .sys with hvci scan, update it from the vendor, or remove it with pnputil /delete-driver oemNN.inf /uninstall.',
    packages: packages.map((p) => p.inf),
  };
};

/** In order: the most specific formats first. */
const DETECTORS: readonly Detector[] = [
  detectBugcheck,
  detectVerifierMessage,
  detectVerifierFlags,
  detectVerifierCounters,
  detectHvciScan,
  detectDgReadiness,
  detectDeviceGuard,
  detectComputerInfo,
  detectCodeIntegrityEvent,
  detectIncompatibleDrivers,
  detectPnputil,
];
