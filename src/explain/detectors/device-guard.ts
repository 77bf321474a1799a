/**
 * Device Guard state: Win32_DeviceGuard (Get-CimInstance) and Get-ComputerInfo DeviceGuard* properties.
 */
import { type DecodedValue, type Detector } from '../explanation.js';

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

export const detectDeviceGuard: Detector = (text) => {
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

export const detectComputerInfo: Detector = (text) => {
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
