/** INF reading: encodings, comments, quotes and %strings% (inputs written here; expected values by hand). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeInf, parseInf } from '../../src/system/inf.js';

describe('INF [Version] facts', () => {
  it('UTF-16LE with a BOM, %strings% resolved, comments dropped, quoted ";" kept', () => {
    const text = '[Version]\r\nProvider = %P% ; vendor\r\nClass=Net\r\nDriverVer = 01/02/2023, 4.5.6.7\r\n[Strings]\r\nP = "A; B ""Q"" Inc"\r\n';
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    assert.deepEqual(parseInf(decodeInf(bytes)), { provider: 'A; B "Q" Inc', driverVersion: '4.5.6.7', driverDate: '01/02/2023', class: 'Net' });
  });
  it('UTF-8 with a BOM and Latin-1 without one', () => {
    assert.equal(decodeInf(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0xc3, 0xa9])), 'aé');
    assert.equal(decodeInf(Buffer.from([0x61, 0xe9])), 'aé');
  });
  it('section and key names are case-insensitive; an unknown %token% stays as written; missing fields are null', () => {
    assert.deepEqual(parseInf('[VERSION]\nPROVIDER=%Nope%\n'), { provider: '%Nope%', driverVersion: null, driverDate: null, class: null });
    assert.deepEqual(parseInf('no sections at all'), { provider: null, driverVersion: null, driverDate: null, class: null });
  });
});
