import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { analyze } from '../analyze.js';
import type { BlocklistIndex } from '../blocklist/index.js';
import type { TargetOs } from '../rules/target-os.js';
import { decodeInf, parseInf } from '../system/inf.js';
import type { DriverPackage, SystemDriver, SystemReport } from '../system/index.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

const BLOCKLIST_RULE = 'vulnerable-driver-blocklist';
/** Driver files are small; a larger "driver" is skipped rather than read whole. */
const MAX_DRIVER_SIZE = 64 * 1024 * 1024;

interface StorePackage {
  folder: string;
  infName: string;
  infSha256: string;
  facts: ReturnType<typeof parseInf>;
  publishedName?: string;
}

export interface RootOptions {
  targetOs: TargetOs;
  blocklist?: BlocklistIndex;
}

/**
 * `hvci system --root DIR`: an offline Windows tree (a mounted disk image, a backup). Lists
 * the driver store's packages (System32\DriverStore\FileRepository\<pkg>\*.inf), names them
 * by the Windows\INF\oemNN.inf whose bytes equal the package's INF (that is how pnputil's
 * published names map to packages), scans every .sys in the store and in System32\drivers
 * (the same file in both is one driver), and says which block Memory Integrity and what to run.
 * Missing folders are problems in the report, not failures.
 */
export async function systemFromRoot(root: string, options: RootOptions): Promise<SystemReport> {
  const problems: string[] = [];
  const windows = (await childDir(root, 'Windows')) ?? ((await childDir(root, 'System32')) ? root : undefined);
  if (!windows) {
    problems.push(`${root}: no Windows folder (expected ${join(root, 'Windows')}); nothing to check`);
    return report([], problems);
  }
  const system32 = await childDir(windows, 'System32');
  const store = system32 ? await childPath(system32, ['DriverStore', 'FileRepository']) : undefined;
  const packages: StorePackage[] = [];
  const files: Array<{ path: string; pkg?: StorePackage }> = [];
  if (!store) {
    problems.push(`${windows}: no driver store (System32\\DriverStore\\FileRepository); drivers are listed without their packages`);
  } else {
    for (const folder of await dirs(store)) {
      const entries = await readdir(folder, { withFileTypes: true });
      const inf = entries.find((e) => e.isFile() && /\.inf$/i.test(e.name));
      if (!inf) {
        problems.push(`${folder}: a driver-store folder without an .inf; its drivers are listed without a package`);
      }
      let pkg: StorePackage | undefined;
      if (inf) {
        const bytes = await readFile(join(folder, inf.name));
        pkg = { folder, infName: inf.name, infSha256: sha256(bytes), facts: parseInf(decodeInf(bytes)) };
        packages.push(pkg);
      }
      for (const sys of await sysFiles(folder, 3)) files.push({ path: sys, ...(pkg ? { pkg } : {}) });
    }
  }
  const infDir = await childDir(windows, 'INF');
  if (infDir) {
    const byHash = new Map(packages.map((p) => [p.infSha256, p]));
    for (const e of await readdir(infDir, { withFileTypes: true })) {
      if (!e.isFile() || !/^oem\d+\.inf$/i.test(e.name)) continue;
      const pkg = byHash.get(sha256(await readFile(join(infDir, e.name))));
      if (pkg) pkg.publishedName = e.name.toLowerCase();
      else problems.push(`${join(infDir, e.name)}: no driver-store package has this INF (a package removed by hand?)`);
    }
  } else if (store) {
    problems.push(`${windows}: no INF folder; packages are named by their own INF, not by oemNN.inf`);
  }
  const drivers32 = system32 ? await childDir(system32, 'drivers') : undefined;
  if (drivers32) for (const sys of await sysFiles(drivers32, 1)) files.push({ path: sys });

  // One driver per content: System32\drivers copies of store files belong to the store's package.
  const seen = new Map<string, SystemDriver>();
  const drivers: SystemDriver[] = [];
  for (const f of files) {
    const size = (await stat(f.path)).size;
    if (size > MAX_DRIVER_SIZE) {
      problems.push(`${f.path}: ${size} bytes, too large for a driver; skipped`);
      continue;
    }
    const bytes = new Uint8Array(await readFile(f.path));
    const hash = sha256(bytes);
    if (seen.has(hash)) continue;
    // Store files come first, so a System32\drivers copy of one is skipped above.
    const pkg = f.pkg;
    const r = analyze(bytes, { path: f.path, sha256: hash, targetOs: options.targetOs, ...(options.blocklist ? { blocklist: options.blocklist } : {}) });
    if (r.status === 'error') problems.push(`${f.path}: ${r.error ?? 'could not be analysed'}`);
    const blocklisted = r.findings.some((x) => x.ruleId === BLOCKLIST_RULE && x.severity === 'error');
    const blocks = r.kernelMode && r.verdict === 'incompatible';
    const info: DriverPackage | null = pkg
      ? {
          publishedName: pkg.publishedName ?? pkg.infName.toLowerCase(),
          originalName: pkg.infName.toLowerCase(),
          provider: pkg.facts.provider,
          driverVersion: pkg.facts.driverVersion,
          class: pkg.facts.class,
        }
      : null;
    const driver: SystemDriver = {
      path: f.path,
      sha256: hash,
      verdict: r.verdict,
      blocksMemoryIntegrity: blocks,
      blocklisted,
      package: info,
      advice: advice(basename(f.path), blocks, blocklisted, info, pkg?.publishedName !== undefined),
      findings: r.findings,
    };
    seen.set(hash, driver);
    drivers.push(driver);
  }
  return report(drivers, problems);
}

function advice(name: string, blocks: boolean, blocklisted: boolean, pkg: DriverPackage | null, thirdParty: boolean): string {
  if (!blocks) return 'Nothing to do: it loads with Memory Integrity on.';
  const why = blocklisted ? 'it is on Microsoft\'s vulnerable driver blocklist' : 'its code is not compatible with Memory Integrity';
  const from = pkg?.provider ? ` from ${pkg.provider}` : ' from the vendor';
  const installed = pkg?.driverVersion ? ` (installed: ${pkg.driverVersion})` : '';
  if (pkg && thirdParty) {
    return `${name} blocks Memory Integrity because ${why}. If nothing needs it (the device is gone): pnputil /delete-driver ${pkg.publishedName} /uninstall. Otherwise update it${from}${installed}.`;
  }
  if (pkg) return `${name} blocks Memory Integrity because ${why}. It comes with Windows' own package ${pkg.publishedName}: update Windows, or ask Microsoft support.`;
  return `${name} blocks Memory Integrity because ${why}. No driver-store package installed it: find the program that did (its service in HKLM\\SYSTEM\\CurrentControlSet\\Services) and update or uninstall it.`;
}

function report(drivers: SystemDriver[], problems: string[]): SystemReport {
  const blocking = drivers.filter((d) => d.blocksMemoryIntegrity).length;
  return {
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    drivers,
    inputs: [],
    ...(problems.length ? { problems } : {}),
    summary: { drivers: drivers.length, blocking, blocklisted: drivers.filter((d) => d.blocklisted).length, inputs: 0, unrecognised: 0 },
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A child directory by name, case-insensitively (Windows trees copied to Linux keep their case). */
async function childDir(dir: string, name: string): Promise<string | undefined> {
  try {
    const hit = (await readdir(dir, { withFileTypes: true })).find((e) => e.isDirectory() && e.name.toLowerCase() === name.toLowerCase());
    return hit ? join(dir, hit.name) : undefined;
  } catch {
    return undefined;
  }
}

async function childPath(dir: string, names: string[]): Promise<string | undefined> {
  let at: string | undefined = dir;
  for (const n of names) {
    at = at === undefined ? undefined : await childDir(at, n);
  }
  return at;
}

async function dirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)).sort();
}

async function sysFiles(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile() && /\.sys$/i.test(e.name)) out.push(join(dir, e.name));
    else if (e.isDirectory() && depth > 1) out.push(...(await sysFiles(join(dir, e.name), depth - 1)));
  }
  return out;
}
