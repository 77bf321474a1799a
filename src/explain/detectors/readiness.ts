/**
 * hvciscan.exe output and the DG Readiness Tool's driver compatibility step.
 */
import { SCAN_HINT, parseNumber, sysNames, type DecodedValue, type Detector } from '../explanation.js';

export const detectHvciScan: Detector = (text) => {
  const issues = /VbsGetIssues:\s*(0x[0-9a-f]+)/i.exec(text);
  const recommended = /VbsIsRecommended:\s*([01])/i.exec(text);
  const start = /HVCI incompatible driver scan start/i.test(text);
  const passed = /HVCI incompatible driver scan passed/i.test(text);
  if (!issues && !recommended && !start && !passed) return undefined;
  const drivers = passed ? [] : sysNames(text);
  const values: DecodedValue[] = [];
  if (issues) values.push({ name: 'VbsGetIssues', value: issues[1] as string, meaning: Number(parseNumber(issues[1] as string)) === 0 ? 'no issues' : 'issue bits set (their meaning is not documented publicly)' });
  if (recommended) values.push({ name: 'VbsIsRecommended', value: recommended[1] as string, meaning: recommended[1] === '1' ? 'VBS recommended on this device' : 'not recommended' });
  return {
    kind: 'hvciscan',
    title: passed ? 'hvciscan: no HVCI-incompatible driver found' : `hvciscan: ${drivers.length ? `incompatible driver(s): ${drivers.join(', ')}` : 'scan output'}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning: passed
      ? 'hvciscan found no installed driver that blocks Memory Integrity.'
      : 'hvciscan lists installed drivers that block Memory Integrity. It does not say why; the binaries do.',
    values,
    fix: passed ? 'Nothing to fix for HVCI.' : `${SCAN_HINT} Remove or update the driver package that installs each listed driver.`,
    ...(drivers.length ? { drivers } : {}),
    notes: ['No real hvciscan.exe output was available to us; the line shapes follow a third-party parser\'s documentation (see docs/explain.md).'],
  };
};

export const detectDgReadiness: Detector = (text) => {
  if (!/Readiness Tool|Step 1 Driver Compat|Incompatible Drivers found|DeviceGuardCheckLog/i.test(text)) return undefined;
  const none = /No Incompatible Drivers found/i.test(text);
  const drivers = none ? [] : sysNames(text);
  const values: DecodedValue[] = [];
  const secure = /Secure Boot is (present|absent|not present)/i.exec(text);
  if (secure) values.push({ name: 'Secure Boot', value: secure[1] as string, meaning: 'needed for VBS / memory integrity with UEFI lock' });
  if (/HSTI is absent/i.test(text)) values.push({ name: 'HSTI', value: 'absent', meaning: 'firmware security test interface not reported (not required for memory integrity)' });
  const arch = /(\d\d)[- ]bit arch/i.exec(text);
  if (arch) values.push({ name: 'architecture', value: `${arch[1]}-bit`, meaning: arch[1] === '64' ? 'supported' : 'memory integrity needs 64-bit Windows' });
  return {
    kind: 'dg-readiness',
    title: none ? 'DG Readiness Tool: no incompatible drivers found' : `DG Readiness Tool: driver compatibility${drivers.length ? `: ${drivers.join(', ')}` : ''}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning: none
      ? 'Step 1 turned on Driver Verifier\'s code-integrity checks and loaded each module: none failed the load-time checks (W+X sections, alignment, IAT placement). Run-time problems (executable pool, protections, MDL mappings) only show when the code runs.'
      : 'Step 1 turned on Driver Verifier\'s code-integrity checks and loaded each module; the modules it names failed them.',
    values,
    fix: none ? `Nothing blocks memory integrity at load. To cover run-time allocations too: ${SCAN_HINT}` : SCAN_HINT,
    ...(drivers.length ? { drivers } : {}),
  };
};
