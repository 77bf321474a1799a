import type { VersionInfo } from '../pe/index.js';
import type { AuthenticodeHashes, SignatureInfo } from '../signature/index.js';
import type { BlocklistIndex, FileAttrib, FileNameRule, HashRule, SignerRule, VersionRange } from './policy.js';

/** What a driver offers to the block rules: its hashes, names, version and signatures. */
export interface DriverIdentity {
  hashes: AuthenticodeHashes;
  /**
   * SHA-1/SHA-256 of the whole file, for images whose layout Authenticode cannot hash
   * (hashes.irregularities not empty): Windows then falls back to the flat file hash.
   */
  flatHashes?: { sha1: string; sha256: string };
  version: VersionInfo | undefined;
  signatures: readonly SignatureInfo[];
}

export type BlocklistMatch =
  | { kind: 'hash'; rule: HashRule; variant: HashVariant }
  | { kind: 'file-name'; rule: FileNameRule; fileName: string; version: string }
  | {
      kind: 'signer';
      rule: SignerRule;
      /** The chain certificate whose TBS hash the rule names. */
      certificate: string;
      /** The FileAttrib that narrowed the signer to this file, when the signer has any. */
      fileAttrib?: FileAttrib;
    };

export type HashVariant = 'SHA-1' | 'SHA-256' | 'page SHA-1' | 'page SHA-256' | 'flat-file SHA-1' | 'flat-file SHA-256';

/**
 * The rules' positions by hash, by lower-case file name and by certificate TBS hash, built
 * once per index: the bundled list has thousands of rules, and scanning them all for every
 * file was a seventh of an image-only scan.
 */
interface Lookup {
  hashes: Map<string, number[]>;
  fileNames: Map<string, number[]>;
  certRoots: Map<string, number[]>;
}

const lookups = new WeakMap<BlocklistIndex, Lookup>();

function lookupOf(index: BlocklistIndex): Lookup {
  let lookup = lookups.get(index);
  if (!lookup) {
    lookup = {
      hashes: positions(index.hashRules, (r) => r.hash),
      fileNames: positions(index.fileRules, (r) => nameKey(r.fileName)),
      certRoots: positions(index.signers, (r) => r.certRoot),
    };
    lookups.set(index, lookup);
  }
  return lookup;
}

function positions<T>(rules: readonly T[], key: (rule: T) => string): Map<string, number[]> {
  const map = new Map<string, number[]>();
  rules.forEach((rule, i) => {
    const k = key(rule);
    const list = map.get(k);
    if (list) list.push(i);
    else map.set(k, [i]);
  });
  return map;
}

/** Every deny rule the driver matches, hash rules first, each kind in the policy's order. */
export function matchBlocklist(index: BlocklistIndex, driver: DriverIdentity): BlocklistMatch[] {
  const lookup = lookupOf(index);
  const matches: BlocklistMatch[] = [];
  const variants: Array<[HashVariant, string]> = [
    ['SHA-1', driver.hashes.sha1],
    ['SHA-256', driver.hashes.sha256],
    ['page SHA-1', driver.hashes.pageSha1],
    ['page SHA-256', driver.hashes.pageSha256],
  ];
  if (driver.flatHashes) variants.push(['flat-file SHA-1', driver.flatHashes.sha1], ['flat-file SHA-256', driver.flatHashes.sha256]);
  // A rule's variant is the first one (in this order) that has its hash.
  const hashHits = new Map<number, HashVariant>();
  for (const [variant, hash] of variants) {
    for (const i of lookup.hashes.get(hash) ?? []) if (!hashHits.has(i)) hashHits.set(i, variant);
  }
  for (const i of [...hashHits.keys()].sort((a, b) => a - b)) {
    matches.push({ kind: 'hash', rule: index.hashRules[i] as HashRule, variant: hashHits.get(i) as HashVariant });
  }
  const version = fileVersion(driver.version);
  const originalName = driver.version?.originalFilename;
  if (originalName) {
    for (const i of lookup.fileNames.get(nameKey(originalName)) ?? []) {
      const rule = index.fileRules[i] as FileNameRule;
      if (inDenyRange(rule, version)) matches.push({ kind: 'file-name', rule, fileName: originalName, version: version.join('.') });
    }
  }
  const signerCandidates = new Set<number>();
  for (const signature of driver.signatures) {
    for (const c of signature.chain) {
      for (const tbs of [c.tbs.sha1, c.tbs.sha256, c.tbs.sha384]) for (const i of lookup.certRoots.get(tbs) ?? []) signerCandidates.add(i);
    }
  }
  for (const i of [...signerCandidates].sort((a, b) => a - b)) {
    const rule = index.signers[i] as SignerRule;
    for (const signature of driver.signatures) {
      const cert = signature.chain.find((c) => tbsOfLength(c.tbs, rule.certRoot.length) === rule.certRoot);
      if (!cert) continue;
      if (rule.publisher !== undefined && !sameName(rule.publisher, signature.signer?.commonName ?? '')) continue;
      if (rule.oemId !== undefined && !sameName(rule.oemId, signature.programName ?? '')) continue;
      let fileAttrib: FileAttrib | undefined;
      if (rule.fileAttribs.length > 0) {
        fileAttrib = rule.fileAttribs.find((a) => attribMatches(a, driver.version, version));
        if (!fileAttrib) continue;
      }
      matches.push({ kind: 'signer', rule, certificate: cert.commonName ?? cert.subject, ...(fileAttrib ? { fileAttrib } : {}) });
      break;
    }
  }
  return matches;
}

function tbsOfLength(tbs: { sha1: string; sha256: string; sha384: string }, hexDigits: number): string | undefined {
  return hexDigits === 40 ? tbs.sha1 : hexDigits === 64 ? tbs.sha256 : hexDigits === 96 ? tbs.sha384 : undefined;
}

const nameKey = (name: string) => name.trim().toLowerCase();
const sameName = (a: string, b: string) => nameKey(a) === nameKey(b);

function attribMatches(a: FileAttrib, info: VersionInfo | undefined, version: number[]): boolean {
  const named =
    (a.fileName !== undefined && sameName(a.fileName, info?.originalFilename ?? '')) ||
    (a.productName !== undefined && sameName(a.productName, info?.productName ?? '')) ||
    (a.internalName !== undefined && sameName(a.internalName, info?.internalName ?? ''));
  return named && inDenyRange(a, version);
}

/**
 * The version Windows compares: VS_FIXEDFILEINFO's file version, else the leading digits of
 * the FileVersion string; a file without either counts as 0.0.0.0.
 */
export function fileVersion(info: VersionInfo | undefined): number[] {
  return parseVersion(info?.fixedFileVersion ?? info?.fileVersion ?? '') ?? [0, 0, 0, 0];
}

export function parseVersion(text: string): number[] | undefined {
  const m = /^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return [1, 2, 3, 4].map((i) => Number(m[i] ?? 0));
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 4; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/**
 * Deny-rule version semantics (Microsoft's "File rule levels" documentation, FORMAT.md):
 * Minimum and Maximum → Minimum ≤ version ≤ Maximum; only Minimum → version ≤ Minimum (on a
 * deny rule it blocks that version and everything older); only Maximum → version ≥ Maximum;
 * neither → every version.
 */
export function inDenyRange(range: VersionRange, version: number[]): boolean {
  const min = range.min === undefined ? undefined : parseVersion(range.min);
  const max = range.max === undefined ? undefined : parseVersion(range.max);
  if (min && max) return compare(version, min) >= 0 && compare(version, max) <= 0;
  if (min) return compare(version, min) <= 0;
  if (max) return compare(version, max) >= 0;
  return true;
}
