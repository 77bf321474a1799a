/**
 * Microsoft-Windows-CodeIntegrity/Operational events.
 */
import type { RuleId } from '../../rules/ids.js';
import { SCAN_HINT, type DecodedValue, type Detector } from '../explanation.js';

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

export const detectCodeIntegrityEvent: Detector = (text) => {
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
