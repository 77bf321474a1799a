/**
 * Bug check 0xC4 (DRIVER_VERIFIER_DETECTED_VIOLATION): `!analyze -v` text, a pasted Arg list, the
 * `BugCheck C4, {…}` line, or just numbers ("c4 2000 fffff… 0 484d454d"); rule book §5.
 */
import type { RuleId } from '../../rules/ids.js';
import { SCAN_HINT, fixOf, parseNumber, type DecodedValue, type Detector, type Explanation } from '../explanation.js';
import { isExecutablePoolType, isExecutableProtection, lacksMdlNoExecute, nxPoolType, nxProtection, poolTagText, poolTypeName, priorityName, protectionName } from '../../analysis/windows-values.js';
import { hex } from '../../pe/index.js';

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

export const detectBugcheck: Detector = (text) => {
  const parsed = bugcheckArgs(text);
  if (!parsed) return undefined;
  const [p1, p2, p3, p4] = parsed.args;
  const code = CI_CODES[Number(p1)];
  const argText = parsed.args.map((a, i) => `Arg${i + 1} ${hex(a)}`).join(', ');
  if (!code || p1 === undefined) {
    const said = parsed.descriptions[0];
    return {
      kind: 'bugcheck-c4',
      title: `Bug check 0xC4 (DRIVER_VERIFIER_DETECTED_VIOLATION), parameter 1 = ${hex(p1 ?? 0n)}: not a code-integrity (HVCI) violation`,
      codeIntegrity: false,
      ruleIds: [],
      meaning:
        `Driver Verifier stopped the system for a violation of another of its checks${said ? ` ("${said}")` : ''}. ` +
        'Code-integrity (HVCI) violations use parameter 1 = 0x2000–0x2006; this one is not about Memory Integrity, and no hvci rule covers it.',
      values: parsed.args.map((a, i) => ({ name: `Arg${i + 1}`, value: hex(a), meaning: parsed.descriptions[i] || '' })),
      fix: 'Look up this parameter 1 in the bug check 0xC4 reference and debug it as a Verifier issue; HVCI compatibility is a separate question (hvci scan).',
      notes: [`Parsed: ${argText}.`],
    };
  }
  const values: DecodedValue[] = [{ name: 'Arg1', value: hex(p1), meaning: code.title }];
  const e: Explanation = {
    kind: 'bugcheck-c4',
    title: `Bug check 0xC4, parameter 1 = ${hex(p1)}: ${code.title}`,
    codeIntegrity: true,
    ruleIds: code.ruleIds,
    meaning: '',
    values,
    fix: code.ruleIds[0] ? fixOf(code.ruleIds[0]) : SCAN_HINT,
  };
  const argMeaning = (i: number) => code.args[i] as string;
  if (p2 !== undefined) values.push({ name: 'Arg2', value: hex(p2), meaning: argMeaning(0) });
  if (p3 !== undefined) values.push({ name: 'Arg3', value: hex(p3), meaning: argMeaning(1) });
  if (p4 !== undefined) values.push({ name: 'Arg4', value: hex(p4), meaning: argMeaning(2) });
  const n1 = Number(p1);
  if (n1 <= 0x2002 && p2 !== undefined) e.callerAddress = hex(p2);
  if (n1 === 0x2000 && p3 !== undefined) {
    const pt = Number(p3 & 0xffffffffn);
    (values[2] as DecodedValue).meaning = `pool type ${poolTypeName(pt)} (${hex(pt)})${isExecutablePoolType(pt) ? ': executable non-paged pool' : ''}`;
    e.meaning =
      `A driver asked for ${poolTypeName(pt)} (${hex(pt)}), which is executable non-paged pool. Under Memory Integrity kernel memory is never both writable and executable, ` +
      'so Driver Verifier\'s code-integrity check stops the system at the allocation.';
    e.fix = `Pass ${nxPoolType(pt)} instead (or POOL_FLAG_NON_PAGED for ExAllocatePool2/3), or build with POOL_NX_OPTIN=1 and call ExInitializeDriverRuntime(DrvRtPoolNxOptIn) in DriverEntry.`;
    if (p4 !== undefined) {
      const tag = poolTagText(p4);
      (values[3] as DecodedValue).meaning = tag ? `pool tag '${tag}' (as it reads in memory; search the driver source for this tag)` : 'pool tag (none)';
    }
  } else if (n1 === 0x2001 && p3 !== undefined) {
    const p = Number(p3 & 0xffffffffn);
    (values[2] as DecodedValue).meaning = `page protection ${protectionName(p)} (${hex(p)})${isExecutableProtection(p) ? ': executable' : ''}`;
    e.meaning = `A driver asked for memory with ${protectionName(p)} (${hex(p)}), an executable protection. Under Memory Integrity the hypervisor will not make such kernel memory executable.`;
    e.fix = `Pass ${nxProtection(p)} instead.`;
  } else if (n1 === 0x2002 && p3 !== undefined) {
    const pr = Number(p3 & 0xffffffffn);
    (values[2] as DecodedValue).meaning = `page priority ${priorityName(pr)} (${hex(pr)})${lacksMdlNoExecute(pr) ? ': MdlMappingNoExecute missing' : ''}`;
    e.meaning = `A driver mapped an MDL with priority ${priorityName(pr)} (${hex(pr)}), without MdlMappingNoExecute, so the mapping would be executable.`;
    e.fix = `Pass ${priorityName((pr | 0x40000000) >>> 0)} (${hex((pr | 0x40000000) >>> 0)}): OR MdlMappingNoExecute into the priority of MmGetSystemAddressForMdlSafe / MmMapLockedPagesSpecifyCache.`;
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
