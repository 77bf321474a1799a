/**
 * Driver Verifier: its code-integrity messages, its flag settings (is 0x02000000 on?) and its
 * code-integrity counters (ExecutePoolTypes …).
 */
import type { RuleId } from '../../rules/ids.js';
import { SCAN_HINT, fixOf, parseNumber, type DecodedValue, type Detector, type Explanation } from '../explanation.js';
import { nxPoolType, nxProtection, poolTagText, poolTypeName, priorityName, protectionName } from '../../analysis/windows-values.js';
import { hex } from '../../pe/index.js';

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
        meaning: `The driver code at ${hex(parseNumber(m[1] as string) ?? 0n)} asked for ${poolTypeName(pt)} (${hex(pt)}), which is executable non-paged pool; Memory Integrity does not allow executable kernel allocations.`,
        fix: `Pass ${nxPoolType(pt)} instead (or POOL_FLAG_NON_PAGED for ExAllocatePool2/3), or opt in with POOL_NX_OPTIN=1 + ExInitializeDriverRuntime(DrvRtPoolNxOptIn).`,
        callerAddress: hex(parseNumber(m[1] as string) ?? 0n),
        values: [
          { name: 'pool type', value: hex(pt), meaning: poolTypeName(pt) },
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
        meaning: `The driver code at ${hex(parseNumber(m[1] as string) ?? 0n)} asked for memory with ${protectionName(p)} (${hex(p)}), an executable protection; under Memory Integrity such kernel memory cannot be executable.`,
        fix: `Pass ${nxProtection(p)} instead.`,
        callerAddress: hex(parseNumber(m[1] as string) ?? 0n),
        values: [{ name: 'protection', value: hex(p), meaning: protectionName(p) }],
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
        meaning: `The driver code at ${hex(parseNumber(m[1] as string) ?? 0n)} mapped an MDL with priority ${priorityName(pr)} (${hex(pr)}), without MdlMappingNoExecute.`,
        fix: fixOf('execute-page-mapping'),
        callerAddress: hex(parseNumber(m[1] as string) ?? 0n),
        values: [{ name: 'priority', value: hex(pr), meaning: priorityName(pr) }],
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

export const detectVerifierMessage: Detector = (text) => {
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

export const detectVerifierFlags: Detector = (text) => {
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

export const detectVerifierCounters: Detector = (text) => {
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
