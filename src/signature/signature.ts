import * as asn1js from 'asn1js';
import { Certificate, ContentInfo, IssuerAndSerialNumber, type RelativeDistinguishedNames, SignedData, SignerInfo, TSTInfo } from 'pkijs';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hex, type PeImage, type PeIssue } from '../pe/index.js';
import { type AuthenticodeHashes, authenticodeHashes, type DigestName, imageDigest, tbsHashes } from './hashes.js';

/**
 * What the Authenticode signature says, read with pkijs/asn1js. This is description, not
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
        readSignedData(image, der, 0, report.signatures);
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

/** Parses a DER ContentInfo holding SignedData and appends it (and its nested signatures) to `out`. */
function readSignedData(image: PeImage, der: Uint8Array | ArrayBuffer, depth: number, out: SignatureInfo[]): void {
  const asn = asn1js.fromBER(der);
  if (asn.offset === -1) throw new Error(`not DER: ${asn.result.error}`);
  const contentInfo = new ContentInfo({ schema: asn.result });
  if (contentInfo.contentType !== OID.signedData) throw new Error(`content type ${contentInfo.contentType} is not SignedData`);
  const signed = new SignedData({ schema: contentInfo.content });
  const eci = signed.encapContentInfo;
  if (eci.eContentType !== OID.spcIndirectData) throw new Error(`content ${eci.eContentType} is not SpcIndirectDataContent`);
  const indirect = contentNode(eci.eContent);
  const digestInfo = child(indirect, 1);
  const algorithm = oidOf(child(child(digestInfo, 0), 0));
  const digestBytes = child(digestInfo, 1);
  if (!(digestBytes instanceof asn1js.OctetString) || !algorithm) throw new Error('SpcIndirectDataContent has no DigestInfo');
  const digestName = DIGESTS[algorithm];
  const digest = bytesToHex(digestBytes.valueBlock.valueHexView);
  const certificates = (signed.certificates ?? []).filter((c): c is Certificate => c instanceof Certificate);
  const signerInfo = signed.signerInfos[0];
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
  if (!signerInfo?.unsignedAttrs || depth >= MAX_NESTING) return;
  for (const attr of signerInfo.unsignedAttrs.attributes) {
    if (attr.type !== OID.nestedSignature) continue;
    for (const value of attr.values as asn1js.BaseBlock[]) readSignedData(image, value.toBER(false), depth + 1, out);
  }
}

/** The encapsulated content: Authenticode puts the SEQUENCE itself under [0]; CMS wraps it in an OCTET STRING. */
function contentNode(eContent: unknown): asn1js.BaseBlock | undefined {
  if (eContent instanceof asn1js.OctetString) {
    const inner = asn1js.fromBER(eContent.getValue());
    return inner.offset === -1 ? undefined : inner.result;
  }
  return eContent instanceof asn1js.BaseBlock ? eContent : undefined;
}

function child(node: asn1js.BaseBlock | undefined, index: number): asn1js.BaseBlock | undefined {
  const value = (node?.valueBlock as { value?: unknown } | undefined)?.value;
  return Array.isArray(value) ? (value[index] as asn1js.BaseBlock | undefined) : undefined;
}

function oidOf(node: asn1js.BaseBlock | undefined): string | undefined {
  return node instanceof asn1js.ObjectIdentifier ? node.valueBlock.toString() : undefined;
}

/**
 * The page-hash table sits inside SpcPeImageData → SpcLink → SpcSerializedObject, whose
 * serializedData is itself DER: a SET of (OID, SET { OCTET STRING table }). Entries are a
 * 4-byte file offset followed by the hash; the first entry is the headers' page.
 */
function findPageHashes(node: asn1js.BaseBlock | undefined, depth = 0): SignatureInfo['pageHashes'] {
  if (!node || depth > 12) return undefined;
  const kids = (node as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  if (Array.isArray(kids)) {
    const first = oidOf(kids[0] as asn1js.BaseBlock);
    if (first === OID.pageHashV1 || first === OID.pageHashV2) {
      const table = child(kids[1] as asn1js.BaseBlock, 0);
      if (table instanceof asn1js.OctetString) {
        const bytes = table.valueBlock.valueHexView;
        const size = first === OID.pageHashV1 ? 20 : 32;
        return { algorithm: first === OID.pageHashV1 ? 'SHA-1' : 'SHA-256', firstPage: bytesToHex(bytes.subarray(4, 4 + size)) };
      }
    }
    for (const k of kids) {
      const found = findPageHashes(k as asn1js.BaseBlock, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (node instanceof asn1js.OctetString && node.valueBlock.valueHexView.length > 2) {
    const inner = asn1js.fromBER(node.valueBlock.valueHexView);
    if (inner.offset !== -1 && inner.offset === node.valueBlock.valueHexView.length) return findPageHashes(inner.result, depth + 1);
  }
  return undefined;
}

function findCertificate(certificates: Certificate[], signerInfo: SignerInfo): Certificate | undefined {
  const sid = signerInfo.sid as unknown;
  if (!(sid instanceof IssuerAndSerialNumber)) return undefined;
  return certificates.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
}

/** The signer and each issuer found in the bag, until a self-issued certificate or a missing link. */
function chainOf(leaf: Certificate, certificates: Certificate[]): Certificate[] {
  const chain = [leaf];
  let current = leaf;
  while (chain.length < certificates.length && !current.subject.isEqual(current.issuer)) {
    const issuer = certificates.find((c) => !chain.includes(c) && c.subject.isEqual(current.issuer));
    if (!issuer) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

function certificateInfo(cert: Certificate): CertificateInfo {
  const info: CertificateInfo = {
    subject: nameOf(cert.subject),
    issuer: nameOf(cert.issuer),
    serialNumber: bytesToHex(cert.serialNumber.valueBlock.valueHexView).toUpperCase(),
    notBefore: cert.notBefore.value.toISOString(),
    notAfter: cert.notAfter.value.toISOString(),
    signatureAlgorithm: SIGNATURE_ALGORITHMS[cert.signatureAlgorithm.algorithmId] ?? cert.signatureAlgorithm.algorithmId,
    tbs: tbsHashes(cert.tbsView),
  };
  const cn = attribute(cert.subject, '2.5.4.3');
  const o = attribute(cert.subject, '2.5.4.10');
  if (cn !== undefined) info.commonName = cn;
  if (o !== undefined) info.organization = o;
  return info;
}

function attribute(name: RelativeDistinguishedNames, oid: string): string | undefined {
  const tv = name.typesAndValues.find((t) => t.type === oid);
  return tv ? valueText(tv.value) : undefined;
}

/** "CN=…, O=…, C=…" in the certificate's own order. */
function nameOf(name: RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => `${NAME_ATTRIBUTES[tv.type] ?? tv.type}=${valueText(tv.value)}`).join(', ');
}

/** Certificate strings reach terminals: control characters are shown as \uNNNN. */
function valueText(value: unknown): string {
  const v = (value as { valueBlock?: { value?: unknown; valueHexView?: Uint8Array } } | undefined)?.valueBlock;
  const text = typeof v?.value === 'string' ? v.value : v?.valueHexView ? `#${bytesToHex(v.valueHexView)}` : '';
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * SpcSpOpusInfo ::= SEQUENCE { programName [0] EXPLICIT SpcString OPTIONAL, moreInfo [1] … },
 * SpcString ::= CHOICE { unicode [0] IMPLICIT BMPString, ascii [1] IMPLICIT IA5String }.
 */
function programNameOf(signerInfo: SignerInfo): string | undefined {
  const attr = signerInfo.signedAttrs?.attributes.find((a) => a.type === OID.spcSpOpusInfo);
  const opus = attr?.values[0] as asn1js.BaseBlock | undefined;
  const kids = (opus?.valueBlock as { value?: unknown } | undefined)?.value;
  if (!Array.isArray(kids)) return undefined;
  const program = (kids as asn1js.BaseBlock[]).find((k) => k.idBlock.tagClass === 3 && k.idBlock.tagNumber === 0);
  const str = child(program, 0);
  if (!str || str.idBlock.tagClass !== 3) return undefined;
  const bytes = (str.valueBlock as { valueHexView?: Uint8Array }).valueHexView;
  if (!bytes) return undefined;
  let text = '';
  if (str.idBlock.tagNumber === 0) {
    for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  } else {
    for (const b of bytes) text += String.fromCharCode(b);
  }
  return valueText({ valueBlock: { value: text.replace(/\0+$/, '') } });
}

/** An RFC 3161 timestamp token (Microsoft's unsigned attribute) or a PKCS#9 countersignature's signing time. */
function timestampOf(signerInfo: SignerInfo, certificates: Certificate[]): TimestampInfo | undefined {
  for (const attr of signerInfo.unsignedAttrs?.attributes ?? []) {
    const value = attr.values[0] as asn1js.BaseBlock | undefined;
    if (!value) continue;
    if (attr.type === OID.rfc3161Timestamp) {
      const token = new SignedData({ schema: new ContentInfo({ schema: value }).content });
      const tst = contentNode(token.encapContentInfo.eContent);
      if (token.encapContentInfo.eContentType !== OID.tstInfo || !tst) continue;
      const info = new TSTInfo({ schema: tst });
      const tsaCerts = (token.certificates ?? []).filter((c): c is Certificate => c instanceof Certificate);
      const tsa = token.signerInfos[0] ? findCertificate(tsaCerts, token.signerInfos[0]) : undefined;
      return { time: info.genTime.toISOString(), kind: 'rfc3161', ...(tsa ? { signer: nameOf(tsa.subject) } : {}) };
    }
    if (attr.type === OID.counterSignature) {
      const counter = new SignerInfo({ schema: value });
      const time = counter.signedAttrs?.attributes.find((a) => a.type === OID.signingTime)?.values[0] as
        | { toDate?: () => Date }
        | undefined;
      if (!time?.toDate) continue;
      const tsa = findCertificate(certificates, counter);
      return { time: time.toDate().toISOString(), kind: 'countersignature', ...(tsa ? { signer: nameOf(tsa.subject) } : {}) };
    }
  }
  return undefined;
}
