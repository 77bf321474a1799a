import { explain, type Explanation } from '../explain/index.js';
import type { Finding, Verdict } from '../report/model.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

/**
 * `hvci system` reports: the machine's Memory Integrity state and the drivers that block it.
 * Field names are a stable contract (schema/system.schema.json, issue 9 item 4): extend,
 * never rename.
 */
export interface SystemReport {
  tool: { name: string; version: string };
  /** Memory Integrity / VBS state, when an input says it. */
  state?: SystemState;
  drivers: SystemDriver[];
  /** What each input is, as `hvci explain` reads it (one entry per recognised piece). */
  inputs: SystemInput[];
  /** What could not be read or found (--root: a tree without a driver store, an oemNN.inf without a package…). */
  problems?: string[];
  summary: { drivers: number; blocking: number; blocklisted: number; inputs: number; unrecognised: number };
}

export interface SystemState {
  /** "running": enforced now; "configured": turned on but not running; "off"; "unknown". */
  memoryIntegrity: 'running' | 'configured' | 'off' | 'unknown';
  /** Where the state came from (input name and its kind). */
  source: string;
  /** The one-line reading of it. */
  summary: string;
}

export interface SystemDriver {
  /** The driver file: a path when the binary was scanned, else the name Windows printed. */
  path: string;
  /** Empty when the binary was not available (saved outputs name drivers, they do not contain them). */
  sha256: string;
  verdict: Verdict;
  blocksMemoryIntegrity: boolean;
  blocklisted: boolean;
  package: DriverPackage | null;
  advice: string;
  findings: Finding[];
}

export interface DriverPackage {
  /** oemNN.inf, the name pnputil takes (for Windows' own packages, the INF's own name). */
  publishedName: string;
  originalName: string | null;
  provider: string | null;
  driverVersion: string | null;
  class: string | null;
}

export interface SystemInput {
  source: string;
  kind: string;
  title: string;
  meaning: string;
  fix: string;
}

export interface SavedOutput {
  /** A name to cite (the file name). */
  name: string;
  text: string;
}

/**
 * Explains saved Windows outputs from a support ticket together: the Device Guard state, the
 * drivers Windows Security says block Memory Integrity, and what pnputil lists about their
 * packages (joined by oemNN.inf when the ticket has both). Pure; reuses `explain`.
 */
export function systemFromOutputs(outputs: readonly SavedOutput[]): SystemReport {
  const inputs: SystemInput[] = [];
  let state: SystemState | undefined;
  const blocking = new Map<string, { name: string; packages: string[]; version?: string; source: string }>();
  const packages = new Map<string, { provider?: string; version?: string }>();
  let unrecognised = 0;
  for (const output of outputs) {
    // Saved samples start with a provenance line; a real paste does not. Either way, explain reads it.
    const found = explain(output.text);
    if (found.length === 0) unrecognised++;
    for (const e of found) {
      inputs.push({ source: output.name, kind: e.kind, title: e.title, meaning: e.meaning, fix: e.fix });
      state = stateOf(e, output.name) ?? state;
      if (e.kind === 'incompatible-drivers') {
        for (const d of e.drivers ?? []) {
          const version = e.values.find((v) => v.name === 'driver' && v.value === d)?.meaning.replace(/^version /, '');
          blocking.set(d.toLowerCase(), {
            name: d,
            packages: e.packages ?? [],
            ...(version && version !== 'incompatible driver file' ? { version } : {}),
            source: output.name,
          });
        }
      }
      if (e.kind === 'pnputil') {
        for (const v of e.values) {
          const version = /([\d.]+)\s*$/.exec(v.meaning)?.[1];
          packages.set(v.name.toLowerCase(), { ...(v.value ? { provider: v.value } : {}), ...(version ? { version } : {}) });
        }
      }
    }
  }
  const drivers: SystemDriver[] = [...blocking.values()].map((b) => {
    const name = b.name;
    const inf = b.packages.length === 1 ? (b.packages[0] as string) : undefined;
    const listed = inf ? packages.get(inf) : undefined;
    const pkg: DriverPackage | null = inf
      ? { publishedName: inf, originalName: null, provider: listed?.provider ?? null, driverVersion: listed?.version ?? b.version ?? null, class: null }
      : null;
    return {
      path: name,
      sha256: '',
      verdict: 'unknown',
      blocksMemoryIntegrity: true,
      // Saved outputs name the driver, not its bytes: the blocklist cannot be checked without the file.
      blocklisted: false,
      package: pkg,
      advice: adviceFor(name, pkg, b.version),
      findings: [],
    };
  });
  return {
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    ...(state ? { state } : {}),
    drivers,
    inputs,
    summary: { drivers: drivers.length, blocking: drivers.length, blocklisted: 0, inputs: outputs.length, unrecognised },
  };
}

function stateOf(e: Explanation, source: string): SystemState | undefined {
  if (e.kind !== 'deviceguard-wmi' && e.kind !== 'computerinfo') return undefined;
  const memoryIntegrity = /is running|HVCI\) is running/.test(e.title)
    ? 'running'
    : /configured but NOT running/.test(e.title)
      ? 'configured'
      : /not configured|not running/.test(e.title)
        ? 'off'
        : 'unknown';
  return { memoryIntegrity, source: `${source} (${e.kind})`, summary: e.title };
}

function adviceFor(driver: string, pkg: DriverPackage | null, reported: string | undefined): string {
  const installed = pkg?.driverVersion ?? reported;
  const version = installed ? ` (installed: ${installed})` : '';
  const from = pkg?.provider ? ` from ${pkg.provider}` : ' from the vendor';
  if (!pkg) {
    return `Find ${driver} (C:\\Windows\\System32\\DriverStore\\FileRepository, C:\\Windows\\System32\\drivers) and run hvci scan on it; then update it${from}${version} or remove the package that installed it (pnputil /enum-drivers names it).`;
  }
  return (
    `If nothing needs this driver any more (the device is gone): pnputil /delete-driver ${pkg.publishedName} /uninstall. ` +
    `Otherwise update it${from}${version}; run hvci scan on ${driver} to see why it is incompatible.`
  );
}
