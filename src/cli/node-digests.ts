/**
 * Imported for its effect by every CLI entry that analyses files: the core's digests
 * (src/digest) become node:crypto's native ones, ~15x faster than the pure-JS default.
 */
import { createHash } from 'node:crypto';
import { type DigestFactory, type DigestName, useDigests } from '../digest/index.js';

const NODE_NAMES: Record<DigestName, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export const nodeDigests: DigestFactory = (name) => {
  const h = createHash(NODE_NAMES[name]);
  return {
    update: (data) => void h.update(data),
    hex: () => h.digest('hex'),
  };
};

useDigests(nodeDigests);
