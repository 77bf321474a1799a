/** src/signature/der.ts on encodings written by hand from X.690, and on damaged ones. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, decodeWhole, DerShapeError, encapsulated, kids, oidOf, octets, textOf, timeOf } from '../../src/signature/der.js';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe('DER reader', () => {
  it('reads OIDs (X.690 8.19: 1.2.840.113549 is 2A 86 48 86 F7 0D; the first octet folds two arcs)', () => {
    assert.equal(oidOf(decode(bytes(0x06, 0x06, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d))), '1.2.840.113549');
    assert.equal(oidOf(decode(bytes(0x06, 0x03, 0x55, 0x04, 0x03))), '2.5.4.3');
    // 2.999: first arc 2, second 999 → 40*2+999 = 1079 = 0x88 0x37.
    assert.equal(oidOf(decode(bytes(0x06, 0x02, 0x88, 0x37))), '2.999');
    assert.equal(oidOf(decode(bytes(0x04, 0x01, 0x2a))), undefined, 'an OCTET STRING is not an OID');
  });

  it('reads short, long and indefinite lengths, and high tag numbers', () => {
    const long = decode(bytes(0x04, 0x81, 0x03, 1, 2, 3));
    assert.deepEqual([...long.content], [1, 2, 3]);
    const indefinite = decode(bytes(0x30, 0x80, 0x02, 0x01, 0x05, 0x05, 0x00, 0x00, 0x00, 0xff));
    assert.equal(kids(indefinite).length, 2);
    assert.equal(indefinite.encoding.length, 9);
    const high = decode(bytes(0x9f, 0x81, 0x00, 0x01, 0x07));
    assert.deepEqual([high.tagClass, high.tag, high.constructed], [2, 128, false]);
  });

  it('reads both time types, with the UTCTime century rule (50–99 → 19xx)', () => {
    const utc = (s: string) => timeOf(decode(bytes(0x17, s.length, ...ascii(s))), 't').toISOString();
    assert.equal(utc('491231235959Z'), '2049-12-31T23:59:59.000Z');
    assert.equal(utc('500101000000Z'), '1950-01-01T00:00:00.000Z');
    const gen = (s: string) => timeOf(decode(bytes(0x18, s.length, ...ascii(s))), 't').toISOString();
    assert.equal(gen('20230615044301.25Z'), '2023-06-15T04:43:01.250Z');
    assert.throws(() => gen('2023061504Z0'), DerShapeError);
    assert.throws(() => timeOf(decode(bytes(0x02, 0x01, 0x01)), 'notBefore'), /notBefore is not a time/);
  });

  it('reads the string types; other values as #hex', () => {
    assert.equal(textOf(decode(bytes(0x0c, 0x03, 0xe2, 0x82, 0xac))), '€', 'UTF8String');
    assert.equal(textOf(decode(bytes(0x0c, 0x02, 0xc3, 0x28))), 'Ã(', 'invalid UTF-8 falls back to one character a byte');
    assert.equal(textOf(decode(bytes(0x1e, 0x04, 0x00, 0x41, 0x20, 0xac))), 'A€', 'BMPString is UTF-16 big-endian');
    assert.equal(textOf(decode(bytes(0x1c, 0x04, 0x00, 0x01, 0xf6, 0x00))), '😀', 'UniversalString is UTF-32 big-endian');
    assert.equal(textOf(decode(bytes(0x13, 0x02, 0x55, 0x53))), 'US', 'PrintableString');
    assert.equal(textOf(decode(bytes(0x02, 0x02, 0x01, 0xff))), '#01ff');
    assert.equal(textOf(decode(bytes(0x30, 0x00))), '');
  });

  it('joins a constructed OCTET STRING and decodes encapsulated DER', () => {
    const pieces = decode(bytes(0x24, 0x08, 0x04, 0x02, 0x05, 0x00, 0x04, 0x02, 0x02, 0x00));
    assert.deepEqual([...octets(pieces)], [0x05, 0x00, 0x02, 0x00]);
    const explicit = decode(bytes(0xa0, 0x06, 0x04, 0x04, 0x30, 0x02, 0x05, 0x00));
    assert.equal(encapsulated(explicit)?.tag, 16);
  });

  it('refuses damage with a DerShapeError, never another exception', () => {
    const bad: Array<[string, Uint8Array]> = [
      ['empty', bytes()],
      ['no length', bytes(0x30)],
      ['length cut off', bytes(0x04, 0x82, 0x01)],
      ['a 5-byte length', bytes(0x04, 0x85, 1, 0, 0, 0, 0)],
      ['content past the end', bytes(0x04, 0x05, 1, 2)],
      ['child past its parent', bytes(0x30, 0x03, 0x04, 0x05, 1, 2, 3, 4, 5)],
      ['indefinite primitive', bytes(0x04, 0x80, 0x00, 0x00)],
      ['unterminated indefinite', bytes(0x30, 0x80, 0x05, 0x00)],
      ['endless tag number', bytes(0x1f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00)],
    ];
    for (const [what, b] of bad) assert.throws(() => decode(b), DerShapeError, what);
  });

  it('bounds depth and node count (hostile nesting and floods)', () => {
    const deep: number[] = [];
    for (let i = 0; i < 100; i++) deep.push(0x30, 0x80);
    assert.throws(() => decode(new Uint8Array(deep)), /nested deeper/);
    const flood = new Uint8Array(2 + 4 + 2 * 250_000);
    flood.set([0x30, 0x84, 0x00, 0x07, 0xa1, 0x20]);
    assert.throws(() => decode(flood), /more than 200000 values/);
  });

  it('decodeWhole wants exactly one value', () => {
    assert.ok(decodeWhole(bytes(0x05, 0x00)));
    assert.equal(decodeWhole(bytes(0x05, 0x00, 0x00)), undefined);
    assert.equal(decodeWhole(bytes(0x04, 0x09)), undefined);
  });
});
