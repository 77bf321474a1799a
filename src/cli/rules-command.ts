/** `hvci rules [id]`: the rule list, or one rule's page. Loaded only for that command. */
import { renderRuleDoc, wdkEquivalents } from '../rules/docs.js';
import { findRule, rules } from '../rules/index.js';
import { ExitCode } from '../report/summary.js';

export function runRulesCommand(id: string | undefined): number {
  if (id === undefined) {
    process.stdout.write(renderRuleList());
    return ExitCode.ok;
  }
  const rule = findRule(id);
  if (!rule) {
    process.stderr.write(`hvci: unknown rule "${id}"; rules: ${rules.map((r) => r.meta.id).join(', ')}\n`);
    return ExitCode.usage;
  }
  process.stdout.write(renderRuleDoc(rule.meta));
  return ExitCode.ok;
}

function renderRuleList(): string {
  const width = Math.max(...rules.map((r) => r.meta.id.length));
  const lines = rules.map((r) => {
    const m = r.meta;
    const verifier = /0x20\d\d/.exec(m.docs.verifier ?? '')?.[0];
    const wdk = /C300\d\d/.test(wdkEquivalents(m)) ? wdkEquivalents(m) : undefined;
    const eq = [verifier ? `Verifier 0xC4/${verifier}` : undefined, wdk].filter(Boolean).join('; ');
    return `${m.id.padEnd(width)}  ${m.defaultSeverity.padEnd(7)}  ${m.docs.title}${eq ? `  [${eq}]` : ''}`;
  });
  return `${lines.join('\n')}\n\n${rules.length} rules. "hvci rules <id>" shows one (also docs/rules/<id>.md).\n`;
}

