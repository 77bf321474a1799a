import type { RuleMeta } from './types.js';

/** Renders docs/rules/<id>.md from a rule's metadata: the one source of truth. */
export function renderRuleDoc(meta: RuleMeta): string {
  const d = meta.docs;
  const lines = [
    `# \`${meta.id}\``,
    '',
    `**${d.title}** — default severity: **${meta.defaultSeverity}**. Rule book: ${d.ruleBook}.`,
    '',
    '## What it flags and why HVCI rejects it',
    '',
    d.description,
    '',
    '## How to fix',
    '',
    d.resolution,
    '',
    '## Messages',
    '',
    ...Object.entries(meta.messages).map(([id, text]) => `- \`${id}\`: ${text as string}`),
    '',
    '## Equivalents',
    '',
    `- Driver Verifier (code integrity, \`/flags 0x02000000\`): ${d.verifier ?? 'none'}`,
    `- Other tools: ${d.related ?? 'none'}`,
    '',
  ];
  if (d.unconfirmed) {
    lines.push('## Unconfirmed facts', '', `${d.unconfirmed} Findings resting on them are reported one severity lower and say so.`, '');
  }
  lines.push('<!-- Generated from the rule metadata by `npm run docs`; edit src/rules/' + meta.id + '.ts instead. -->', '');
  return lines.join('\n');
}
