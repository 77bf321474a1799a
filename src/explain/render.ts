import type { Explanation } from './explain.js';
import type { DriverContext } from './locate.js';

export interface ExplainResult {
  explanations: Explanation[];
  /** Per explanation (same index), when a driver was given. */
  driver?: Array<DriverContext | undefined>;
}

/** Plain text for a terminal or a support ticket. */
export function renderExplainText(result: ExplainResult): string {
  if (result.explanations.length === 0) {
    return (
      'hvci explain: nothing recognised. Paste a bug check 0xC4 (!analyze -v, or "c4 <arg1> <arg2> <arg3> <arg4>"), a Driver Verifier ' +
      'code-integrity message, !verifier / verifier /query output, hvciscan or DG Readiness output, Win32_DeviceGuard, a CodeIntegrity event, ' +
      'an incompatible-driver list or pnputil -e output.\n'
    );
  }
  const out: string[] = [];
  result.explanations.forEach((e, i) => {
    if (i > 0) out.push('');
    out.push(e.title, '');
    out.push(`  What it means: ${e.meaning}`);
    if (e.values.length) {
      out.push('  Values:');
      const width = Math.min(28, Math.max(...e.values.map((v) => v.name.length)));
      for (const v of e.values) out.push(`    ${v.name.padEnd(width)}  ${v.value}${v.meaning ? `  ${v.meaning}` : ''}`);
    }
    out.push(`  hvci rules: ${e.ruleIds.length ? e.ruleIds.join(', ') : 'none (not an HVCI incompatibility of a driver binary)'}`);
    if (e.ruleIds.length) out.push(`  Rule pages: ${e.ruleIds.map((r) => `hvci rules ${r}`).join(' · ')}`);
    out.push(`  Fix: ${e.fix}`);
    for (const n of e.notes ?? []) out.push(`  Note: ${n}`);
    const d = result.driver?.[i];
    if (d) {
      out.push(`  In ${d.driver}:`);
      if (d.rva) out.push(`    caller RVA ${d.rva}${d.function ? ` in ${d.function}` : ''}`);
      if (d.callSite) out.push(`    call site ${d.callSite.rva}: ${d.callSite.text}`);
      for (const f of d.findings) out.push(`    ${f.severity} ${f.ruleId}: ${f.message}`);
      out.push(`    ${d.note}`);
    }
  });
  return out.join('\n') + '\n';
}

export function renderExplainJson(result: ExplainResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}
