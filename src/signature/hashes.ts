import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { authenticodeLayout, type PeImage } from '../pe/index.js';

/**
 * The four Authenticode hashes Microsoft's block rules are written against (FORMAT.md of
 * ../shared/data/driver-blocklist): the PE image hash in SHA-1 and SHA-256, and the hash
 * of the first page as page-hash signatures record it. Lower-case hex.
 */
export interface AuthenticodeHashes {
  sha1: string;
  sha256: string;
  pageSha1: string;
  pageSha256: string;
  /**
   * Why the layout is not what the Authenticode spec expects (sections past the end of the
   * file, overlapping the certificate table…): Windows then falls back to the flat file
   * hash. Empty for a well-formed image.
   */
  irregularities: string[];
}

export type DigestName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

const HASHERS = { 'SHA-1': sha1, 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

/** The Authenticode image hash with any supported digest. */
export function imageDigest(image: PeImage, digest: DigestName): string {
  const h = HASHERS[digest].create();
  for (const part of authenticodeLayout(image).parts) h.update(part);
  return bytesToHex(h.digest());
}

/** The first-page hash: headers without CheckSum and the Certificate Table entry, zero-padded to a page. */
function firstPageDigest(image: PeImage, digest: DigestName): string {
  const { firstPage } = authenticodeLayout(image);
  const h = HASHERS[digest].create();
  for (const part of firstPage.parts) h.update(part);
  h.update(new Uint8Array(firstPage.zeroPadding));
  return bytesToHex(h.digest());
}

const cache = new WeakMap<PeImage, AuthenticodeHashes>();

export function authenticodeHashes(image: PeImage): AuthenticodeHashes {
  let hashes = cache.get(image);
  if (!hashes) {
    hashes = {
      sha1: imageDigest(image, 'SHA-1'),
      sha256: imageDigest(image, 'SHA-256'),
      pageSha1: firstPageDigest(image, 'SHA-1'),
      pageSha256: firstPageDigest(image, 'SHA-256'),
      irregularities: authenticodeLayout(image).irregularities,
    };
    cache.set(image, hashes);
  }
  return hashes;
}

/** SHA-1, SHA-256 and SHA-384 of some bytes (certificate TBS hashes come in all three sizes). */
export function tbsHashes(bytes: Uint8Array): { sha1: string; sha256: string; sha384: string } {
  return { sha1: bytesToHex(sha1(bytes)), sha256: bytesToHex(sha256(bytes)), sha384: bytesToHex(sha384(bytes)) };
}
