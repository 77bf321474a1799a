import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/**
 * Message digests for the core. The default is pure JavaScript (@noble/hashes), which runs
 * anywhere, including a browser page; a host with a native implementation installs it with
 * `useDigests` (the CLI installs node:crypto, ~15x faster: Authenticode hashes every byte of
 * every file twice, and that dominated a scan's time with the pure-JS hashes).
 */
export type DigestName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface Digest {
  update(data: Uint8Array): void;
  /** Lower-case hex; the digest cannot be updated afterwards. */
  hex(): string;
}

export type DigestFactory = (name: DigestName) => Digest;

const NOBLE = { 'SHA-1': sha1, 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

export const pureDigests: DigestFactory = (name) => {
  const h = NOBLE[name].create();
  return {
    update: (data) => void h.update(data),
    hex: () => bytesToHex(h.digest()),
  };
};

let current: DigestFactory = pureDigests;

/** Installs the digest implementation the core uses from now on (per thread). */
export function useDigests(factory: DigestFactory): void {
  current = factory;
}

export function createDigest(name: DigestName): Digest {
  return current(name);
}

/** The digest of some bytes, in lower-case hex. */
export function digestHex(name: DigestName, ...parts: Uint8Array[]): string {
  const d = current(name);
  for (const p of parts) d.update(p);
  return d.hex();
}
