/**
 * The oldest Windows release a driver must support, as a build number. HVCI arrived
 * with Windows 10 1507 (build 10240); some loader limits were lifted in 1703 (15063).
 */
export interface TargetOs {
  /** What the user wrote, normalised (e.g. "win10-1607"). */
  name: string;
  minBuild: number;
}

const RELEASES: Readonly<Record<string, number>> = {
  'win10-1507': 10240,
  'win10-1511': 10586,
  'win10-1607': 14393,
  'win10-1703': 15063,
  'win10-1709': 16299,
  'win10-1803': 17134,
  'win10-1809': 17763,
  'win10-1903': 18362,
  'win10-1909': 18363,
  'win10-2004': 19041,
  'win10-20h2': 19042,
  'win10-21h1': 19043,
  'win10-21h2': 19044,
  'win10-22h2': 19045,
  'win11-21h2': 22000,
  'win11-22h2': 22621,
  'win11-23h2': 22631,
  'win11-24h2': 26100,
  'server2016': 14393,
  'server2019': 17763,
  'server2022': 20348,
  'server2025': 26100,
};

const ALIASES: Readonly<Record<string, string>> = {
  win10: 'win10-1507',
  win11: 'win11-21h2',
};

export const TARGET_OS_NAMES: readonly string[] = [...Object.keys(ALIASES), ...Object.keys(RELEASES)];

/** The default assumes the widest HVCI range: every Windows 10 release. */
export const DEFAULT_TARGET_OS: TargetOs = { name: 'win10-1507', minBuild: 10240 };

/** Parses "win10-1607", "win11", "server2019" or a build number ("14393", "10.0.14393"). */
export function parseTargetOs(text: string): TargetOs | undefined {
  const key = text.trim().toLowerCase();
  const name = ALIASES[key] ?? key;
  const build = RELEASES[name];
  if (build !== undefined) return { name, minBuild: build };
  const m = /^(?:10\.0\.)?(\d{4,6})$/.exec(key);
  if (m) return { name: `build-${m[1]}`, minBuild: Number(m[1]) };
  return undefined;
}

/** Windows 10 1507–1607 rejected images whose relocations straddle a page; 1703 accepts them. */
export function includesPre1703(target: TargetOs): boolean {
  return target.minBuild < 15063;
}
