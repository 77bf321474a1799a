import { createDigest, type DigestName, digestHex } from '../digest/index.js';
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

export type { DigestName };

/** The Authenticode image hash with any supported digest. */
export function imageDigest(image: PeImage, digest: DigestName): string {
  const known = digest === 'SHA-1' || digest === 'SHA-256' ? cache.get(image) : undefined;
  if (known) return digest === 'SHA-1' ? known.sha1 : known.sha256;
  const h = createDigest(digest);
  for (const part of authenticodeLayout(image).parts) h.update(part);
  return h.hex();
}

/** SHA-1 and SHA-256 of the same parts, in one pass over the file's bytes. */
function bothDigests(parts: readonly Uint8Array[]): { sha1: string; sha256: string } {
  const one = createDigest('SHA-1');
  const two = createDigest('SHA-256');
  for (const part of parts) {
    one.update(part);
    two.update(part);
  }
  return { sha1: one.hex(), sha256: two.hex() };
}

const cache = new WeakMap<PeImage, AuthenticodeHashes>();

export function authenticodeHashes(image: PeImage): AuthenticodeHashes {
  let hashes = cache.get(image);
  if (!hashes) {
    const layout = authenticodeLayout(image);
    const { firstPage } = layout;
    const page = bothDigests([...firstPage.parts, new Uint8Array(firstPage.zeroPadding)]);
    hashes = { ...bothDigests(layout.parts), pageSha1: page.sha1, pageSha256: page.sha256, irregularities: layout.irregularities };
    cache.set(image, hashes);
  }
  return hashes;
}

/** SHA-1, SHA-256 and SHA-384 of some bytes (certificate TBS hashes come in all three sizes). */
export function tbsHashes(bytes: Uint8Array): { sha1: string; sha256: string; sha384: string } {
  return { sha1: digestHex('SHA-1', bytes), sha256: digestHex('SHA-256', bytes), sha384: digestHex('SHA-384', bytes) };
}
