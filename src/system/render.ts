import type { SystemDriver, SystemReport } from './from-outputs.js';

const STATE_LABEL: Record<string, string> = {
  running: 'running',
  configured: 'turned on but NOT running',
  off: 'off',
  unknown: 'unknown',
};

/**
 * Text for admins and support staff: the state, the drivers that block Memory Integrity
 * grouped by package with what to run, then (for saved outputs) what each input says.
 */
export function renderSystemText(report: SystemReport): string {
  const out: string[] = [];
  if (report.state) out.push(`Memory integrity: ${STATE_LABEL[report.state.memoryIntegrity]} (${report.state.source})`);
  else if (report.inputs.length > 0) {
    out.push('Memory integrity: state not in the inputs (add Get-CimInstance -ClassName Win32_DeviceGuard -Namespace root\\Microsoft\\Windows\\DeviceGuard output)');
  }
  const blocking = report.drivers.filter((d) => d.blocksMemoryIntegrity);
  if (blocking.length > 0) {
    out.push(`Blocking memory integrity (${blocking.length}):`);
    const groups = new Map<string, SystemDriver[]>();
    for (const d of blocking) {
      const key = d.package ? packageLine(d) : '(no driver-store package)';
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const [key, list] of groups) {
      out.push(`  ${key}`);
      for (const d of list) {
        const why = d.findings.filter((f) => f.severity === 'error').map((f) => f.ruleId);
        out.push(`    ${d.path}${why.length ? ` — ${[...new Set(why)].join(', ')}` : ''}`, `      ${d.advice}`);
      }
    }
  } else {
    out.push('Blocking memory integrity: none found.');
  }
  const others = report.drivers.length - blocking.length;
  if (others > 0) out.push(`${others} other driver${others === 1 ? '' : 's'} load${others === 1 ? 's' : ''} with memory integrity on.`);
  if (report.inputs.length > 0) {
    out.push('', 'What each input says:');
    for (const i of report.inputs) out.push(`  ${i.source}: ${i.title}`, `    ${i.meaning}`, `    fix: ${i.fix}`);
  }
  for (const p of report.problems ?? []) out.push(`problem: ${p}`);
  const s = report.summary;
  out.push(
    '',
    report.inputs.length > 0 || s.inputs > 0
      ? `${s.inputs} input${s.inputs === 1 ? '' : 's'} (${s.unrecognised} not recognised); ${s.blocking} driver${s.blocking === 1 ? '' : 's'} block${s.blocking === 1 ? 's' : ''} memory integrity.`
      : `${s.drivers} driver${s.drivers === 1 ? '' : 's'} checked; ${s.blocking} block${s.blocking === 1 ? 's' : ''} memory integrity (${s.blocklisted} on the vulnerable driver blocklist).`,
  );
  return out.join('\n') + '\n';
}

function packageLine(d: SystemDriver): string {
  const p = d.package;
  if (!p) return '';
  const parts = [p.originalName && p.originalName !== p.publishedName ? p.originalName : undefined, p.provider, p.driverVersion, p.class].filter(Boolean);
  return `${p.publishedName}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export function renderSystemJson(report: SystemReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
