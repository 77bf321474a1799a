import type { SystemReport } from './from-outputs.js';

const STATE_LABEL: Record<string, string> = {
  running: 'running',
  configured: 'turned on but NOT running',
  off: 'off',
  unknown: 'unknown',
};

/** Text for admins and support staff: the state, what blocks Memory Integrity and what to run, then each input read. */
export function renderSystemText(report: SystemReport): string {
  const out: string[] = [];
  out.push(
    report.state
      ? `Memory integrity: ${STATE_LABEL[report.state.memoryIntegrity]} (${report.state.source})`
      : 'Memory integrity: state not in the inputs (add Get-CimInstance -ClassName Win32_DeviceGuard -Namespace root\\Microsoft\\Windows\\DeviceGuard output)',
  );
  if (report.drivers.length > 0) {
    out.push('', `Blocking memory integrity (${report.drivers.length}):`);
    for (const d of report.drivers) {
      const pkg = d.package
        ? ` · package ${d.package.publishedName}${d.package.provider ? ` · ${d.package.provider}` : ''}${d.package.driverVersion ? ` · ${d.package.driverVersion}` : ''}`
        : '';
      out.push(`  ${d.path}${pkg}`, `    ${d.advice}`);
    }
  }
  out.push('', 'What each input says:');
  for (const i of report.inputs) {
    out.push(`  ${i.source}: ${i.title}`, `    ${i.meaning}`, `    fix: ${i.fix}`);
  }
  const s = report.summary;
  out.push(
    '',
    `${s.inputs} input${s.inputs === 1 ? '' : 's'} (${s.unrecognised} not recognised); ${s.blocking} driver${s.blocking === 1 ? '' : 's'} block${s.blocking === 1 ? 's' : ''} memory integrity.`,
  );
  return out.join('\n') + '\n';
}

export function renderSystemJson(report: SystemReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
