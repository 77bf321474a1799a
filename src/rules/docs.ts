import type { RuleMeta } from './types.js';

/** Why any of this matters, for rules that do not give their own rationale. */
const HVCI_RATIONALE =
  'Memory Integrity (HVCI) runs kernel code-integrity checks in a hypervisor-protected environment and uses the ' +
  'hypervisor\'s second-level page tables to enforce that a kernel page is executable only after it has been validated, ' +
  'and that an executable page is never writable. Anything in a driver that needs writable code or executable data ' +
  'defeats that guarantee, so Windows refuses it.';

/** WDK Code Analysis warnings named in free text (C30029–C30035). */
export function wdkEquivalents(meta: RuleMeta): string {
  if (meta.docs.wdk) return meta.docs.wdk;
  const ids = [...new Set((meta.docs.related ?? '').match(/C300\d\d/g) ?? [])];
  return ids.length ? ids.join(', ') : 'none (Code Analysis checks source code; this is a property of the linked image)';
}

/** Renders docs/rules/<id>.md from a rule's metadata: the one source of truth. */
export function renderRuleDoc(meta: RuleMeta): string {
  const d = meta.docs;
  const lines = [
    `# \`${meta.id}\``,
    '',
    `**${d.title}** — default severity: **${meta.defaultSeverity}**. Rule book: ${d.ruleBook}.`,
    '',
    '## What it flags',
    '',
    d.description,
    '',
    '## Why HVCI rejects it',
    '',
    d.why ?? HVCI_RATIONALE,
    '',
    '## How to fix',
    '',
    d.resolution,
    '',
  ];
  if (d.example) {
    lines.push('## Example', '', `\`hvci scan ${d.example.fixture}\` (a fixture in \`test/fixtures/image/bin\`) reports:`, '', '```', d.example.text, '```', '');
  }
  lines.push(
    '## Messages',
    '',
    ...Object.entries(meta.messages).map(([id, text]) => `- \`${id}\`: ${text as string}`),
    '',
    'The JSON and SARIF reports carry the same message id and arguments, plus structured `evidence` ' +
      '(section headers, directory entries, relocation entries, or the call site with its disassembly).',
    '',
    '## Equivalents',
    '',
    `- Driver Verifier (code integrity, \`/flags 0x02000000\`): ${d.verifier ?? 'none'}`,
    `- WDK Code Analysis: ${wdkEquivalents(meta)}`,
    `- Other tools: ${d.related ?? 'none'}`,
    '',
  );
  if (d.unconfirmed) {
    lines.push('## Unconfirmed facts', '', `${d.unconfirmed} Findings resting on them are reported one severity lower and say so.`, '');
  }
  lines.push('<!-- Generated from the rule metadata by `npm run docs`; edit src/rules/' + meta.id + '.ts instead. -->', '');
  return lines.join('\n');
}
