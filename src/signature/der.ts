import * as asn1js from 'asn1js';

/**
 * Reading decoded DER (asn1js) by position. Authenticode, CMS and X.509 fix where each field
 * is, so a signature's facts are a few lookups in asn1js's tree; matching every structure
 * against a full schema (pkijs) cost three times the decoding itself and told us nothing we
 * use, since nothing here verifies a signature.
 */
export type Node = asn1js.AsnType;

export const UNIVERSAL = 1;
export const CONTEXT = 3;

export class DerShapeError extends Error {}

/**
 * asn1js's limits for untrusted input, and no copy of the bytes (views into the image). Not
 * decoding every OCTET STRING's content as DER too: the few that hold DER are decoded where
 * they are read (page hashes, RFC 3161 tokens).
 */
const OPTIONS = { copyInput: false, parseEmbedded: false, maxNodes: 200_000, maxDepth: 64 } as const;

/** Decodes one DER value at the start of `bytes`. */
export function decode(bytes: Uint8Array): Node {
  const asn = asn1js.fromBER(bytes, OPTIONS);
  if (asn.offset === -1) throw new DerShapeError(`not DER: ${asn.result.error}`);
  return asn.result;
}

/** The children of a constructed value (empty for a primitive one). */
export function kids(node: Node | undefined): Node[] {
  // Primitive values keep other things in `value` (an OID's arcs, for one).
  if (!node?.idBlock.isConstructed) return [];
  const value = (node as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  return Array.isArray(value) ? (value as Node[]) : [];
}

export function child(node: Node | undefined, index: number): Node | undefined {
  return kids(node)[index];
}

/** A child that must be there: its absence is a malformed structure. */
export function need(node: Node | undefined, index: number, what: string): Node {
  const c = child(node, index);
  if (!c) throw new DerShapeError(`${what} is missing`);
  return c;
}

export function isContext(node: Node | undefined, tag: number): boolean {
  return !!node && node.idBlock.tagClass === CONTEXT && node.idBlock.tagNumber === tag;
}

/** A universal SEQUENCE (tag 16). */
export function isSequence(node: Node | undefined): boolean {
  return !!node && node.idBlock.tagClass === UNIVERSAL && node.idBlock.tagNumber === 16;
}

export function oidOf(node: Node | undefined): string | undefined {
  return node instanceof asn1js.ObjectIdentifier ? node.valueBlock.toString() : undefined;
}

/** The content octets of a primitive value (INTEGER, OCTET STRING, or an IMPLICIT-tagged one). */
export function contentBytes(node: Node | undefined): Uint8Array | undefined {
  return (node?.valueBlock as { valueHexView?: Uint8Array } | undefined)?.valueHexView;
}

/** The value's whole encoding (tag, length and content), a view into the input. */
export function encoding(node: Node): Uint8Array {
  return node.valueBeforeDecodeView;
}

export function sameEncoding(a: Node, b: Node): boolean {
  const x = encoding(a);
  const y = encoding(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** UTCTime or GeneralizedTime as a Date. */
export function timeOf(node: Node | undefined, what: string): Date {
  if (node instanceof asn1js.UTCTime || node instanceof asn1js.GeneralizedTime) return node.toDate();
  throw new DerShapeError(`${what} is not a time`);
}

/**
 * The encapsulated content of a CMS EncapsulatedContentInfo's [0]: Authenticode puts the
 * SEQUENCE itself there, CMS (RFC 3161 tokens) an OCTET STRING holding its DER.
 */
export function encapsulated(explicit: Node | undefined): Node | undefined {
  const inner = child(explicit, 0);
  if (inner instanceof asn1js.OctetString) {
    const asn = asn1js.fromBER(inner.getValue(), OPTIONS);
    return asn.offset === -1 ? undefined : asn.result;
  }
  return inner;
}

/** Decodes bytes that must hold exactly one DER value (embedded DER inside an OCTET STRING). */
export function decodeWhole(bytes: Uint8Array): Node | undefined {
  const asn = asn1js.fromBER(bytes, OPTIONS);
  return asn.offset === bytes.length ? asn.result : undefined;
}
