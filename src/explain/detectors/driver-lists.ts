/**
 * Driver lists: Windows Security's "Review incompatible drivers" and `pnputil -e` (any language).
 */
import { SCAN_HINT, infNames, sysNames, type Detector } from '../explanation.js';

export const detectIncompatibleDrivers: Detector = (text) => {
  if (!/incompatib|비호환|prevent(?:s|ing)? Memory Integrity|Memory Integrity|core isolation/i.test(text)) return undefined;
  if (/DRIVER_VERIFIER_DETECTED_VIOLATION|Readiness Tool|hvciscan|HVCI incompatible driver scan/i.test(text)) return undefined;
  const drivers = sysNames(text);
  if (drivers.length === 0) return undefined;
  const packages = infNames(text);
  const version = /\.sys\b[^\n]*?version\s+([\d.]+)/i.exec(text)?.[1];
  return {
    kind: 'incompatible-drivers',
    title: `Memory integrity blocked by: ${drivers.join(', ')}`,
    codeIntegrity: true,
    ruleIds: [],
    meaning:
      'Windows Security (Core isolation → Memory integrity → Review incompatible drivers) lists installed drivers that would not load with memory integrity on, so it refuses to turn it on. ' +
      'The list names the driver file and the driver-store package (oemNN.inf), not the reason.',
    values: [
      ...drivers.map((d) => ({ name: 'driver', value: d, meaning: version ? `version ${version}` : 'incompatible driver file' })),
      ...packages.map((p) => ({ name: 'package', value: p, meaning: 'published driver package that installs it' })),
    ],
    fix:
      `${SCAN_HINT} Find the file under C:\\Windows\\System32\\DriverStore\\FileRepository. If the device is gone or the driver unused, remove the package: ` +
      `pnputil /delete-driver ${packages[0] ?? 'oemNN.inf'} /uninstall; otherwise ask the vendor for an HVCI-compatible version.`,
    drivers,
    ...(packages.length ? { packages } : {}),
  };
};

const PUBLISHED = /^(?:Published name|发布名称|Опубликованное имя|Nom publié|Veröffentlichter Name)\s*:?\s*(\S*)\s*$/im;

export const detectPnputil: Detector = (text) => {
  if (!PUBLISHED.test(text) && !/pnputil\s+(-e|\/enum-drivers)/i.test(text)) return undefined;
  // Values may sit on the line after their label (Russian output wraps them).
  const lines = text.split('\n');
  const packages: Array<{ inf: string; provider?: string; date?: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(PUBLISHED.source, 'i').exec(lines[i] as string);
    if (!m) continue;
    const inf = m[1] || (lines[i + 1] ?? '').trim();
    if (!/^oem\d+\.inf$/i.test(inf)) continue;
    const rest = lines.slice(i + 1, i + 8).join('\n');
    const provider = /(?:provider|提供程序|Поставщик[^:]*)\s*:\s*(.+)/i.exec(rest)?.[1]?.trim();
    const date = /(\d\d\/\d\d\/\d{4}\s+[\d.]+)/.exec(rest)?.[1];
    packages.push({ inf: inf.toLowerCase(), ...(provider ? { provider } : {}), ...(date ? { date } : {}) });
  }
  return {
    kind: 'pnputil',
    title: `pnputil driver package list: ${packages.length} third-party package${packages.length === 1 ? '' : 's'}`,
    codeIntegrity: false,
    ruleIds: [],
    meaning:
      'pnputil -e lists the third-party driver packages in the driver store (published as oemNN.inf). It says nothing about memory integrity by itself; ' +
      'it is how you map the oemNN.inf that "Review incompatible drivers" shows to a vendor and version.',
    values: packages.map((p) => ({ name: p.inf, value: p.provider ?? '', meaning: p.date ? `driver date and version ${p.date}` : '' })),
    fix: 'For a package Windows Security names as incompatible: check its .sys with hvci scan, update it from the vendor, or remove it with pnputil /delete-driver oemNN.inf /uninstall.',
    packages: packages.map((p) => p.inf),
  };
};
