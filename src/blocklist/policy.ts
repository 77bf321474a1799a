
/**
 * The deny content of a Windows code-integrity policy (SiPolicy XML) such as Microsoft's
 * recommended driver block rules, reduced to what matching a driver needs. Only rules the
 * kernel-mode signing scenario (Value 131) references count: a Deny rule no scenario uses
 * is not enforced, and the policy's Allow-all rules and options (Audit Mode) are ignored,
 * because the published policy is meant to sit beside other policies (FORMAT.md of
 * ../shared/data/driver-blocklist).
 */
export interface BlocklistIndex {
  policy: PolicyInfo;
  /** Deny rules by Authenticode hash (SHA-1, SHA-256, page SHA-1, page SHA-256); hash in lower case. */
  hashRules: HashRule[];
  /** Deny rules by file name (OriginalFilename) and version range. */
  fileRules: FileNameRule[];
  /** Denied signers, each with its certificate TBS hash and narrowing conditions. */
  signers: SignerRule[];
}

export interface PolicyInfo {
  /** PolicyInfo Name ("Microsoft Windows Driver Policy"). */
  name: string;
  /** VersionEx, e.g. "10.0.27825.0". */
  version: string;
  policyTypeId?: string;
  /** Where the XML came from (bundled copy: repository, commit, file sha256). */
  source?: string;
}

export interface HashRule {
  id: string;
  friendlyName: string;
  hash: string;
}

export interface VersionRange {
  /** MinimumFileVersion as written. */
  min?: string;
  /** MaximumFileVersion as written. */
  max?: string;
}

export interface FileNameRule extends VersionRange {
  id: string;
  friendlyName: string;
  fileName: string;
}

/** A FileAttrib: it names a file by one of these fields plus a version range, and only narrows signers. */
export interface FileAttrib extends VersionRange {
  id: string;
  friendlyName: string;
  fileName?: string;
  productName?: string;
  internalName?: string;
}

export interface SignerRule {
  id: string;
  name: string;
  /** CertRoot Type="TBS" value, lower-case hex (40, 64 or 96 digits). */
  certRoot: string;
  /** CertPublisher: the leaf certificate's common name. */
  publisher?: string;
  /** CertOemID: the OEM name in a Microsoft hardware signature. */
  oemId?: string;
  /** FileAttribRef targets: the signer applies only to files matching one of them (when any). */
  fileAttribs: FileAttrib[];
}

/** A file that is not a usable SiPolicy (policy-xml.ts says why in one line). */
export class BlocklistError extends Error {}
