/**
 * A bounded, zero-copy reader of DER (and BER's indefinite lengths) for the Authenticode
 * signature, in the spirit of the PE reader: every length is checked against its parent,
 * depth and node count are capped, damage is an exception the caller turns into a problem.
 *
 * Why not a library: asn1js (with pkijs before it) was three quarters of an image-only scan
 * and most of its cold-start cost — an object graph of several classes per node, each
 * re-validating its buffer. We read ~15 fields at fixed positions of CMS, X.509 and
 * Authenticode structures and verify nothing, so tag-length-value, OIDs, times and the
 * string types are all we need. Same output as asn1js on every signed file of the corpus.
 */
export interface Node {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  tagClass: number;
  tag: number;
  constructed: boolean;
  /** The whole encoding: identifier, length and content (a view into the input). */
  encoding: Uint8Array;
  /** The content octets (for an indefinite length: without the end-of-contents octets). */
  content: Uint8Array;
  children: Node[];
}

export const UNIVERSAL = 0;
export const CONTEXT = 2;

const TAG = { integer: 2, octetString: 4, oid: 6, utf8: 12, sequence: 16, utcTime: 23, generalizedTime: 24, bmp: 30, universal: 28 } as const;
/** String types read byte by byte (asn1js does the same). */
const SINGLE_BYTE_STRINGS = new Set([18, 19, 20, 21, 22, 25, 26, 27, 29]);
const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

export class DerShapeError extends Error {}

interface Budget {
  nodes: number;
}

/** Decodes the DER value at the start of `bytes` (trailing bytes, such as padding, are ignored). */
export function decode(bytes: Uint8Array): Node {
  return parseAt(bytes, 0, bytes.length, 0, { nodes: 0 }).node;
}

/** Decodes bytes that must hold exactly one DER value (embedded DER inside an OCTET STRING). */
export function decodeWhole(bytes: Uint8Array): Node | undefined {
  try {
    const { node, end } = parseAt(bytes, 0, bytes.length, 0, { nodes: 0 });
    return end === bytes.length ? node : undefined;
  } catch (e) {
    if (e instanceof DerShapeError) return undefined;
    throw e;
  }
}

function parseAt(bytes: Uint8Array, at: number, limit: number, depth: number, budget: Budget): { node: Node; end: number } {
  if (depth > MAX_DEPTH) throw new DerShapeError(`not DER: nested deeper than ${MAX_DEPTH}`);
  if (++budget.nodes > MAX_NODES) throw new DerShapeError(`not DER: more than ${MAX_NODES} values`);
  const start = at;
  if (at >= limit) throw new DerShapeError(`not DER: a value is missing at byte ${at}`);
  const id = bytes[at++] as number;
  const tagClass = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let n = 0; ; n++) {
      if (at >= limit || n >= 4) throw new DerShapeError(`not DER: bad tag number at byte ${start}`);
      const b = bytes[at++] as number;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (at >= limit) throw new DerShapeError(`not DER: no length at byte ${at}`);
  const first = bytes[at++] as number;
  const children: Node[] = [];
  if (first === 0x80) {
    // BER indefinite length: constructed values only, closed by two zero octets.
    if (!constructed) throw new DerShapeError(`not DER: indefinite length on a primitive value at byte ${start}`);
    const contentStart = at;
    for (;;) {
      if (at + 2 <= limit && bytes[at] === 0 && bytes[at + 1] === 0) break;
      const child = parseAt(bytes, at, limit, depth + 1, budget);
      children.push(child.node);
      at = child.end;
    }
    const node = { tagClass, tag, constructed, encoding: bytes.subarray(start, at + 2), content: bytes.subarray(contentStart, at), children };
    return { node, end: at + 2 };
  }
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new DerShapeError(`not DER: a ${count}-byte length at byte ${start}`);
    length = 0;
    for (let i = 0; i < count; i++) {
      if (at >= limit) throw new DerShapeError(`not DER: length cut off at byte ${at}`);
      length = length * 256 + (bytes[at++] as number);
    }
  }
  const end = at + length;
  if (end > limit) throw new DerShapeError(`not DER: a value at byte ${start} claims ${length} bytes, past the end of its container`);
  if (constructed) {
    let p = at;
    while (p < end) {
      const child = parseAt(bytes, p, end, depth + 1, budget);
      children.push(child.node);
      p = child.end;
    }
  }
  return { node: { tagClass, tag, constructed, encoding: bytes.subarray(start, end), content: bytes.subarray(at, end), children }, end };
}

/** The children of a constructed value (empty for a primitive one). */
export function kids(node: Node | undefined): Node[] {
  return node ? node.children : [];
}

export function child(node: Node | undefined, index: number): Node | undefined {
  return node?.children[index];
}

/** A child that must be there: its absence is a malformed structure. */
export function need(node: Node | undefined, index: number, what: string): Node {
  const c = child(node, index);
  if (!c) throw new DerShapeError(`${what} is missing`);
  return c;
}

export function isContext(node: Node | undefined, tag: number): boolean {
  return !!node && node.tagClass === CONTEXT && node.tag === tag;
}

const isUniversal = (node: Node | undefined, tag: number): node is Node => !!node && node.tagClass === UNIVERSAL && node.tag === tag;

/** A universal SEQUENCE. */
export function isSequence(node: Node | undefined): boolean {
  return isUniversal(node, TAG.sequence);
}

export function isOctetString(node: Node | undefined): boolean {
  return isUniversal(node, TAG.octetString);
}

/** Dotted OBJECT IDENTIFIER text ("1.2.840.113549.1.7.2"). */
export function oidOf(node: Node | undefined): string | undefined {
  if (!isUniversal(node, TAG.oid) || node.constructed || node.content.length === 0) return undefined;
  const arcs: number[] = [];
  let value = 0;
  for (const b of node.content) {
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) return undefined;
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const x = Math.min(2, Math.floor(value / 40));
        arcs.push(x, value - 40 * x);
      } else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** The content octets of a primitive value (INTEGER, OCTET STRING, or an IMPLICIT-tagged one). */
export function contentBytes(node: Node | undefined): Uint8Array | undefined {
  return node && !node.constructed ? node.content : undefined;
}

/** The value's whole encoding (tag, length and content), a view into the input. */
export function encoding(node: Node): Uint8Array {
  return node.encoding;
}

export function sameEncoding(a: Node, b: Node): boolean {
  const x = a.encoding;
  const y = b.encoding;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** UTCTime (YYMMDDhhmm[ss]Z, years 1950–2049) or GeneralizedTime (YYYYMMDDhhmmss[.fff]Z) as a Date. */
export function timeOf(node: Node | undefined, what: string): Date {
  const utc = isUniversal(node, TAG.utcTime);
  if (!node || node.constructed || !(utc || isUniversal(node, TAG.generalizedTime))) throw new DerShapeError(`${what} is not a time`);
  const text = latin1(node.content);
  const m = utc
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d{1,9}))?Z$/.exec(text);
  if (!m) throw new DerShapeError(`${what} "${text.slice(0, 32)}" is not a UTC time`);
  let year = Number(m[1]);
  if (utc) year += year < 50 ? 2000 : 1900;
  const ms = utc || !m[7] ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5] ?? 0), Number(m[6] ?? 0), ms));
  if (Number.isNaN(date.getTime())) throw new DerShapeError(`${what} "${text}" is not a valid time`);
  return date;
}

/**
 * A string value's text (UTF8String, BMPString, UniversalString, and the single-byte types),
 * `#hex` of the content for any other primitive, '' for a constructed value.
 */
export function textOf(node: Node | undefined): string {
  if (!node || node.constructed) return '';
  const c = node.content;
  if (node.tagClass === UNIVERSAL) {
    if (node.tag === TAG.utf8) return utf8(c);
    if (node.tag === TAG.bmp) return utf16be(c);
    if (node.tag === TAG.universal) return utf32be(c);
    if (SINGLE_BYTE_STRINGS.has(node.tag) || node.tag === TAG.utcTime || node.tag === TAG.generalizedTime) return latin1(c);
  }
  return `#${hexOf(c)}`;
}

/** An OCTET STRING's octets, BER's constructed form (pieces) concatenated. */
export function octets(node: Node): Uint8Array {
  if (!node.constructed) return node.content;
  const pieces = node.children.filter(isOctetString).map(octets);
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The encapsulated content of a CMS EncapsulatedContentInfo's [0]: Authenticode puts the
 * SEQUENCE itself there, CMS (RFC 3161 tokens) an OCTET STRING holding its DER.
 */
export function encapsulated(explicit: Node | undefined): Node | undefined {
  const inner = child(explicit, 0);
  return inner && isOctetString(inner) ? decodeWhole(octets(inner)) : inner;
}

export function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

function utf16be(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  return s;
}

function utf32be(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const cp = (((bytes[i] as number) << 24) | ((bytes[i + 1] as number) << 16) | ((bytes[i + 2] as number) << 8) | (bytes[i + 3] as number)) >>> 0;
    s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return s;
}
