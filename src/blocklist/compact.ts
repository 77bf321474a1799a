import type { BlocklistIndex, FileAttrib, FileNameRule, PolicyInfo, SignerRule } from './policy.js';

/**
 * The bundled block rules as stored in src/blocklist/bundled.generated.ts: hash rules as
 * tuples and FileAttribs once each (signers refer to them by id, as the XML does), which
 * halves the size against the expanded BlocklistIndex.
 */
export interface CompactBlocklist {
  policy: PolicyInfo;
  /** [ID, FriendlyName, hash]. */
  hashRules: Array<[string, string, string]>;
  fileRules: FileNameRule[];
  fileAttribs: FileAttrib[];
  signers: Array<Omit<SignerRule, 'fileAttribs'> & { fileAttribs: string[] }>;
}

export function toCompact(index: BlocklistIndex): CompactBlocklist {
  const attribs = new Map<string, FileAttrib>();
  for (const s of index.signers) for (const a of s.fileAttribs) attribs.set(a.id, a);
  return {
    policy: index.policy,
    hashRules: index.hashRules.map((r) => [r.id, r.friendlyName, r.hash]),
    fileRules: index.fileRules,
    fileAttribs: [...attribs.values()],
    signers: index.signers.map((s) => ({ ...s, fileAttribs: s.fileAttribs.map((a) => a.id) })),
  };
}

export function fromCompact(data: CompactBlocklist): BlocklistIndex {
  const attribs = new Map(data.fileAttribs.map((a) => [a.id, a]));
  return {
    policy: data.policy,
    hashRules: data.hashRules.map(([id, friendlyName, hash]) => ({ id, friendlyName, hash })),
    fileRules: data.fileRules,
    signers: data.signers.map((s) => ({
      ...s,
      fileAttribs: s.fileAttribs.map((id) => attribs.get(id)).filter((a): a is FileAttrib => a !== undefined),
    })),
  };
}
