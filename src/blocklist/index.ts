import { fromCompact } from './compact.js';
import { BUNDLED_DATA } from './bundled.generated.js';
import type { BlocklistIndex } from './policy.js';

let bundled: BlocklistIndex | undefined;

/** Microsoft's recommended driver block rules as bundled with hvci (`npm run blocklist` regenerates them). */
export function bundledBlocklist(): BlocklistIndex {
  bundled ??= fromCompact(BUNDLED_DATA);
  return bundled;
}

export { type CompactBlocklist, fromCompact, toCompact } from './compact.js';
export { type BlocklistMatch, type DriverIdentity, fileVersion, type HashVariant, inDenyRange, matchBlocklist, parseVersion } from './match.js';
export {
  BlocklistError,
  type BlocklistIndex,
  type FileAttrib,
  type FileNameRule,
  type HashRule,
  type PolicyInfo,
  type SignerRule,
  type VersionRange,
} from './policy.js';
