import { hex, type PeImage, type PeIssue } from '../pe/index.js';
import {
  child,
  contentBytes,
  decode,
  decodeWhole,
  DerShapeError,
  encapsulated,
  encoding,
  isContext,
  isSequence,
  kids,
  need,
  type Node,
  oidOf,
  sameEncoding,
  timeOf,
  hexOf as bytesToHex,
  isOctetString,
  textOf,
} from './der.js';
import { type AuthenticodeHashes, authenticodeHashes, type DigestName, imageDigest, tbsHashes } from './hashes.js';

/**
 * What the Authenticode signature says, read with our DER reader (der.ts). This is description, not
 * verification: nothing here checks a signature value, a chain's trust or revocation.
 * `digestMatches` only compares the image hash the signature carries with the one we
 * compute, which tells whether the file was changed after signing.
 */
export interface SignatureReport {
  /** The file has a certificate table inside the file. */
  present: boolean;
  /** Computed from the file whether or not it is signed. */
  hashes: AuthenticodeHashes;
  /** The primary signature first, then nested ones (SPC_NESTED_SIGNATURE) in order. */
  signatures: SignatureInfo[];
}

export interface SignatureInfo {
  /** 0 for the primary signature, then 1, 2… for nested signatures. */
  index: number;
  nested: boolean;
  digestAlgorithm: string;
  /** The Authenticode image hash stored in the signature (SpcIndirectDataContent). */
  digest: string;
  /** Whether `digest` equals the hash we compute with the same algorithm (null: algorithm not supported). */
  digestMatches: boolean | null;
  /** The page-hash table's algorithm and its first page's hash, when the signature has one. */
  pageHashes?: { algorithm: string; firstPage: string };
  signer?: CertificateInfo;
  /**
   * SpcSpOpusInfo's programName (an authenticated attribute). In Microsoft's hardware
   * (WHQL/attestation) signatures it names the company that submitted the driver: the value
   * block rules match with CertOemID.
   */
  programName?: string;
  /** Signer certificate first, then each issuer found in the signature's certificate bag. */
  chain: CertificateInfo[];
  timestamp?: TimestampInfo;
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** The subject's CN (what block rules call the publisher). */
  commonName?: string;
  organization?: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  signatureAlgorithm: string;
  /** Hashes of the to-be-signed part, the value block rules name in CertRoot Type="TBS". */
  tbs: { sha1: string; sha256: string; sha384: string };
}

export interface TimestampInfo {
  /** ISO 8601, UTC. */
  time: string;
  kind: 'rfc3161' | 'countersignature';
  /** The timestamping authority's certificate subject, when present. */
  signer?: string;
}

/** WIN_CERTIFICATE wCertificateType for PKCS#7 SignedData. */
const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;
/** Nested signatures inside nested signatures are not followed past this depth. */
const MAX_NESTING = 4;
/** Certificate table entries walked at most (a signed file has one). */
const MAX_ENTRIES = 8;

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  spcIndirectData: '1.3.6.1.4.1.311.2.1.4',
  nestedSignature: '1.3.6.1.4.1.311.2.4.1',
  rfc3161Timestamp: '1.3.6.1.4.1.311.3.3.1',
  counterSignature: '1.2.840.113549.1.9.6',
  signingTime: '1.2.840.113549.1.9.5',
  spcSpOpusInfo: '1.3.6.1.4.1.311.2.1.12',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  pageHashV1: '1.3.6.1.4.1.311.2.3.1',
  pageHashV2: '1.3.6.1.4.1.311.2.3.2',
} as const;

const DIGESTS: Record<string, DigestName | 'MD5'> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
  '1.2.840.113549.2.5': 'MD5',
};

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSA',
  '1.2.840.113549.1.1.5': 'sha1WithRSA',
  '1.2.840.113549.1.1.11': 'sha256WithRSA',
  '1.2.840.113549.1.1.12': 'sha384WithRSA',
  '1.2.840.113549.1.1.13': 'sha512WithRSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.3.2': 'ecdsaWithSHA256',
  '1.2.840.10045.4.3.3': 'ecdsaWithSHA384',
};

const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'E',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
  '2.5.4.15': 'businessCategory',
};

export interface SignatureResult {
  signature: SignatureReport;
  problems: PeIssue[];
}

const cache = new WeakMap<PeImage, SignatureResult>();

/** Reads the certificate table once per image. Never throws: damage becomes a problem. */
export function readSignature(image: PeImage): SignatureResult {
  let result = cache.get(image);
  if (!result) {
    result = parse(image);
    cache.set(image, result);
  }
  return result;
}

function parse(image: PeImage): SignatureResult {
  const problems: PeIssue[] = [];
  const hashes = authenticodeHashes(image);
  const security = image.security;
  const report: SignatureReport = { present: security?.insideFile ?? false, hashes, signatures: [] };
  // A table that runs past the end of the file is already a reader issue (SECURITY_DIRECTORY_OUTSIDE_FILE).
  if (!security?.insideFile) return { signature: report, problems };
  const view = image.view;
  const problem = (message: string, offset: number) => problems.push({ code: 'SIGNATURE_MALFORMED', message, offset });
  let at = security.fileOffset;
  const end = security.fileOffset + security.size;
  for (let n = 0; n < MAX_ENTRIES && at + 8 <= end; n++) {
    const length = view.u32(at) as number;
    const type = view.u16(at + 6) as number;
    if (length < 8 || length > end - at) {
      problem(`certificate table entry at ${hex(at)} has length ${hex(length)}, outside the ${hex(security.size)}-byte table`, at);
      break;
    }
    if (type !== WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
      problem(`certificate table entry at ${hex(at)} has type ${hex(type, 4)}, not PKCS#7 SignedData (0x0002); not read`, at);
    } else {
      const der = view.slice(at + 8, length - 8) as Uint8Array;
      try {
        readSignedData(image, decode(der), 0, report.signatures);
      } catch (e) {
        problem(`the Authenticode signature at ${hex(at)} (${length - 8} bytes) does not parse: ${describe(e)}`, at);
      }
    }
    // Entries are 8-byte aligned.
    at += (length + 7) & ~7;
  }
  return { signature: report, problems };
}

function describe(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 * SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE { OID, [0] EXPLICIT content },
 *   certificates [0] IMPLICIT SET OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
 */
function signedDataOf(contentInfo: Node): { content: Node | undefined; contentType: string | undefined; certificates: Certificate[]; signerInfo: Node | undefined } {
  const type = oidOf(child(contentInfo, 0));
  if (type !== OID.signedData) throw new DerShapeError(`content type ${type ?? '(none)'} is not SignedData`);
  const signed = need(need(contentInfo, 1, 'ContentInfo content'), 0, 'SignedData');
  const fields = kids(signed);
  const eci = need(signed, 2, 'SignedData encapContentInfo');
  const certificates = fields
    .filter((f) => isContext(f, 0))
    .flatMap(kids)
    .filter(isSequence)
    .map(certificateOf);
  const signerInfos = fields[fields.length - 1];
  return { contentType: oidOf(child(eci, 0)), content: encapsulated(child(eci, 1)), certificates, signerInfo: child(signerInfos, 0) };
}

/** Parses a ContentInfo holding Authenticode SignedData and appends it (and its nested signatures) to `out`. */
function readSignedData(image: PeImage, contentInfo: Node, depth: number, out: SignatureInfo[]): void {
  const { contentType, content: indirect, certificates, signerInfo } = signedDataOf(contentInfo);
  if (contentType !== OID.spcIndirectData) throw new DerShapeError(`content ${contentType ?? '(none)'} is not SpcIndirectDataContent`);
  const digestInfo = child(indirect, 1);
  const algorithm = oidOf(child(child(digestInfo, 0), 0));
  const digestBytes = contentBytes(child(digestInfo, 1));
  if (!digestBytes || !algorithm) throw new DerShapeError('SpcIndirectDataContent has no DigestInfo');
  const digestName = DIGESTS[algorithm];
  const digest = bytesToHex(digestBytes);
  const signerCert = signerInfo ? findCertificate(certificates, signerInfo) : undefined;
  const info: SignatureInfo = {
    index: out.length,
    nested: depth > 0 || out.length > 0,
    digestAlgorithm: digestName ?? algorithm,
    digest,
    digestMatches: digestName && digestName !== 'MD5' ? imageDigest(image, digestName) === digest : null,
    chain: signerCert ? chainOf(signerCert, certificates).map(certificateInfo) : [],
  };
  const pageHashes = findPageHashes(child(indirect, 0));
  if (pageHashes) info.pageHashes = pageHashes;
  if (info.chain[0]) info.signer = info.chain[0];
  const programName = signerInfo ? programNameOf(signerInfo) : undefined;
  if (programName) info.programName = programName;
  const timestamp = signerInfo ? timestampOf(signerInfo, certificates) : undefined;
  if (timestamp) info.timestamp = timestamp;
  out.push(info);
  if (!signerInfo || depth >= MAX_NESTING) return;
  for (const attr of attributes(signerInfo, 1)) {
    if (attr.type !== OID.nestedSignature) continue;
    for (const value of attr.values) readSignedData(image, value, depth + 1, out);
  }
}

/**
 * The page-hash table sits inside SpcPeImageData → SpcLink → SpcSerializedObject, whose
 * serializedData is itself DER: a SET of (OID, SET { OCTET STRING table }). Entries are a
 * 4-byte file offset followed by the hash; the first entry is the headers' page.
 */
function findPageHashes(node: Node | undefined, depth = 0): SignatureInfo['pageHashes'] {
  if (!node || depth > 12) return undefined;
  const children = kids(node);
  if (children.length > 0) {
    const first = oidOf(children[0]);
    if (first === OID.pageHashV1 || first === OID.pageHashV2) {
      const table = contentBytes(child(children[1], 0));
      if (table) {
        const size = first === OID.pageHashV1 ? 20 : 32;
        return { algorithm: first === OID.pageHashV1 ? 'SHA-1' : 'SHA-256', firstPage: bytesToHex(table.subarray(4, 4 + size)) };
      }
    }
    for (const k of children) {
      const found = findPageHashes(k, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const bytes = contentBytes(node);
  if (isOctetString(node) && bytes && bytes.length > 2) {
    const inner = decodeWhole(bytes);
    if (inner) return findPageHashes(inner, depth + 1);
  }
  return undefined;
}

interface Attribute {
  type: string | undefined;
  values: Node[];
}

/**
 * SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT SET OF Attribute OPTIONAL,
 *   signatureAlgorithm, signature, unsignedAttrs [1] IMPLICIT SET OF Attribute OPTIONAL }
 * Attribute ::= SEQUENCE { type OID, values SET }
 */
function attributes(signerInfo: Node, tag: 0 | 1): Attribute[] {
  const set = kids(signerInfo).find((f) => isContext(f, tag));
  return kids(set).map((a) => ({ type: oidOf(child(a, 0)), values: kids(child(a, 1)) }));
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber, signature, issuer, validity, subject, … }
 */
interface Certificate {
  tbs: Node;
  serial: Node;
  issuer: Node;
  subject: Node;
  validity: Node;
  signatureAlgorithm: string | undefined;
}

function certificateOf(cert: Node): Certificate {
  const tbs = need(cert, 0, 'TBSCertificate');
  const at = isContext(child(tbs, 0), 0) ? 1 : 0;
  return {
    tbs,
    serial: need(tbs, at, 'certificate serial number'),
    issuer: need(tbs, at + 2, 'certificate issuer'),
    validity: need(tbs, at + 3, 'certificate validity'),
    subject: need(tbs, at + 4, 'certificate subject'),
    signatureAlgorithm: oidOf(child(child(cert, 1), 0)),
  };
}

/** SignerIdentifier ::= CHOICE { IssuerAndSerialNumber SEQUENCE { issuer, serialNumber }, [0] SubjectKeyIdentifier } */
function findCertificate(certificates: Certificate[], signerInfo: Node): Certificate | undefined {
  const sid = child(signerInfo, 1);
  if (!isSequence(sid)) return undefined;
  const issuer = child(sid, 0);
  const serial = child(sid, 1);
  if (!issuer || !serial) return undefined;
  return certificates.find((c) => sameEncoding(c.issuer, issuer) && sameEncoding(c.serial, serial));
}

/** The signer and each issuer found in the bag, until a self-issued certificate or a missing link. */
function chainOf(leaf: Certificate, certificates: Certificate[]): Certificate[] {
  const chain = [leaf];
  let current = leaf;
  while (chain.length < certificates.length && !sameEncoding(current.subject, current.issuer)) {
    const issuer = certificates.find((c) => !chain.includes(c) && sameEncoding(c.subject, current.issuer));
    if (!issuer) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

function certificateInfo(cert: Certificate): CertificateInfo {
  const algorithm = cert.signatureAlgorithm ?? '';
  const info: CertificateInfo = {
    subject: nameOf(cert.subject),
    issuer: nameOf(cert.issuer),
    serialNumber: bytesToHex(contentBytes(cert.serial) ?? new Uint8Array()).toUpperCase(),
    notBefore: timeOf(child(cert.validity, 0), 'notBefore').toISOString(),
    notAfter: timeOf(child(cert.validity, 1), 'notAfter').toISOString(),
    signatureAlgorithm: SIGNATURE_ALGORITHMS[algorithm] ?? algorithm,
    tbs: tbsHashes(encoding(cert.tbs)),
  };
  const cn = attribute(cert.subject, '2.5.4.3');
  const o = attribute(cert.subject, '2.5.4.10');
  if (cn !== undefined) info.commonName = cn;
  if (o !== undefined) info.organization = o;
  return info;
}

/** Name ::= SEQUENCE OF SET OF AttributeTypeAndValue { type OID, value }, flattened in order. */
function typesAndValues(name: Node): { type: string; value: Node | undefined }[] {
  return kids(name).flatMap((rdn) => kids(rdn).map((tv) => ({ type: oidOf(child(tv, 0)) ?? '?', value: child(tv, 1) })));
}

function attribute(name: Node, oid: string): string | undefined {
  const tv = typesAndValues(name).find((t) => t.type === oid);
  return tv ? valueText(tv.value) : undefined;
}

/** "CN=…, O=…, C=…" in the certificate's own order. */
function nameOf(name: Node): string {
  return typesAndValues(name)
    .map((tv) => `${NAME_ATTRIBUTES[tv.type] ?? tv.type}=${valueText(tv.value)}`)
    .join(', ');
}

/** Certificate strings reach terminals: control characters are shown as \uNNNN. */
function valueText(value: Node | undefined): string {
  return safeText(textOf(value));
}

function safeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * SpcSpOpusInfo ::= SEQUENCE { programName [0] EXPLICIT SpcString OPTIONAL, moreInfo [1] … },
 * SpcString ::= CHOICE { unicode [0] IMPLICIT BMPString, ascii [1] IMPLICIT IA5String }.
 */
function programNameOf(signerInfo: Node): string | undefined {
  const opus = attributes(signerInfo, 0).find((a) => a.type === OID.spcSpOpusInfo)?.values[0];
  const program = kids(opus).find((k) => isContext(k, 0));
  const str = child(program, 0);
  if (!str || !(isContext(str, 0) || isContext(str, 1))) return undefined;
  const bytes = contentBytes(str);
  if (!bytes) return undefined;
  let text = '';
  if (str.tag === 0) {
    for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  } else {
    for (const b of bytes) text += String.fromCharCode(b);
  }
  return safeText(text.replace(/\0+$/, ''));
}

/** An RFC 3161 timestamp token (Microsoft's unsigned attribute) or a PKCS#9 countersignature's signing time. */
function timestampOf(signerInfo: Node, certificates: Certificate[]): TimestampInfo | undefined {
  for (const attr of attributes(signerInfo, 1)) {
    const value = attr.values[0];
    if (!value) continue;
    if (attr.type === OID.rfc3161Timestamp) {
      const token = signedDataOf(value);
      if (token.contentType !== OID.tstInfo || !token.content) continue;
      // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime GeneralizedTime, … }
      const time = timeOf(child(token.content, 4), 'TSTInfo genTime');
      const tsa = token.signerInfo ? findCertificate(token.certificates, token.signerInfo) : undefined;
      return { time: time.toISOString(), kind: 'rfc3161', ...(tsa ? { signer: nameOf(tsa.subject) } : {}) };
    }
    if (attr.type === OID.counterSignature) {
      const signingTime = attributes(value, 0).find((a) => a.type === OID.signingTime)?.values[0];
      if (!signingTime) continue;
      const time = timeOf(signingTime, 'signingTime');
      const tsa = findCertificate(certificates, value);
      return { time: time.toISOString(), kind: 'countersignature', ...(tsa ? { signer: nameOf(tsa.subject) } : {}) };
    }
  }
  return undefined;
}
