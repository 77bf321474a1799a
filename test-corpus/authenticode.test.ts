/**
 * Authenticode hashes against an independent implementation: osslsigncode (Debian
 * package). For every signed file in ../shared/corpus that osslsigncode reads:
 *  - `osslsigncode verify` on the file as shipped prints the image hash it computes in the
 *    signature's own algorithm ("Calculated message digest");
 *  - re-signing a copy with a throwaway test key, once with `-h sha1 -ph` and once with
 *    `-h sha256 -ph`, makes osslsigncode compute the image hash and the page-hash table in
 *    both algorithms. Re-signing replaces only the certificate table, which the image hash
 *    excludes, so the copy's hashes are the original's.
 * Our SHA-1, SHA-256 and first-page hashes (src/signature/hashes.ts) must equal all of them.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parsePe } from '../src/pe/index.js';
import { authenticodeHashes, readSignature } from '../src/signature/index.js';
import { corpusDir, hasCorpus } from '../test/helpers/paths.js';
import { readTsv } from '../test/helpers/tsv.js';

if (!hasCorpus) throw new Error(`corpus not found at ${corpusDir} (set HVCI_CORPUS)`);
const hasOsslsigncode = spawnSync('osslsigncode', ['--version']).status === 0;
if (!hasOsslsigncode) throw new Error('osslsigncode not found: apt-get install osslsigncode (the .ci/run script installs it)');

/** Files with an Authenticode directory, according to python3-pefile (facts.tsv). */
const signedFiles = readTsv(join(corpusDir, 'facts.tsv'))
  .filter((r) => r.authenticode === 'yes')
  .map((r) => r.path as string);

interface OsslOutput {
  algorithm?: string;
  digest?: string;
  /** The first page-hash table entry: 4-byte offset then (the start of) the hash, as printed. */
  pageHash?: string;
}

function osslVerify(file: string): OsslOutput {
  const r = spawnSync('osslsigncode', ['verify', '-ignore-cdp', '-in', file], { encoding: 'utf8' });
  const text = `${r.stdout}\n${r.stderr}`;
  const out: OsslOutput = {};
  const algorithm = /^Message digest algorithm\s*:\s*(\S+)/m.exec(text)?.[1];
  const digest = /^Calculated message digest\s*:\s*([0-9A-F]+)/m.exec(text)?.[1];
  const pageHash = /^Calculated page hash\s*:\s*([0-9A-F]+)/m.exec(text)?.[1];
  if (algorithm) out.algorithm = algorithm;
  if (digest) out.digest = digest.toLowerCase();
  if (pageHash) out.pageHash = pageHash.toLowerCase();
  return out;
}

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'hvci-authenticode-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hvci test signer',
    '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem'),
  ], { stdio: 'ignore' });
});

function resign(file: string, algorithm: 'sha1' | 'sha256'): OsslOutput {
  const out = join(work, `${algorithm}-${file.replace(/[\\/]/g, '_')}`);
  const r = spawnSync('osslsigncode', [
    'sign', '-h', algorithm, '-ph', '-certs', join(work, 'cert.pem'), '-key', join(work, 'key.pem'),
    '-in', join(corpusDir, file), '-out', out,
  ], { encoding: 'utf8' });
  assert.equal(r.status, 0, `osslsigncode sign -h ${algorithm} failed on ${file}: ${r.stderr}`);
  return osslVerify(out);
}

const compared: string[] = [];
const unreadable: string[] = [];

describe('Authenticode hashes equal osslsigncode on the signed corpus files', () => {
  it('the corpus has signed files (or this test proves nothing)', () => {
    assert.ok(signedFiles.length >= 15, `only ${signedFiles.length} signed files in facts.tsv`);
  });

  for (const path of signedFiles) {
    it(path, () => {
      const original = osslVerify(join(corpusDir, path));
      if (!original.digest) {
        // osslsigncode refuses a few layouts Windows accepts (shim's two certificate-table
        // entries: "Corrupted attribute certificate table"); our reader must still not fail.
        unreadable.push(path);
        const parsed = parsePe(readFileSync(join(corpusDir, path)));
        assert.ok(parsed.ok);
        assert.ok(readSignature(parsed.image).signature.present);
        return;
      }
      const parsed = parsePe(readFileSync(join(corpusDir, path)));
      assert.ok(parsed.ok, `${path} does not parse`);
      const ours = authenticodeHashes(parsed.image);
      const signature = readSignature(parsed.image);

      // 1. The shipped signature's algorithm, as osslsigncode computes it.
      const oursInThatAlgorithm = original.algorithm === 'SHA1' ? ours.sha1 : original.algorithm === 'SHA256' ? ours.sha256 : undefined;
      assert.ok(oursInThatAlgorithm, `unexpected algorithm ${original.algorithm}`);
      assert.equal(oursInThatAlgorithm, original.digest, 'image hash in the signature algorithm');
      // The digest we read out of the signature is the one osslsigncode computed, too.
      assert.equal(signature.signature.signatures[0]?.digest, original.digest, 'digest read from the signature');

      // 2. Both algorithms and both page hashes, from re-signed copies.
      const sha1 = resign(path, 'sha1');
      const sha256 = resign(path, 'sha256');
      assert.equal(ours.sha1, sha1.digest, 'Authenticode SHA-1');
      assert.equal(ours.sha256, sha256.digest, 'Authenticode SHA-256');
      // osslsigncode prints the table's first 32 bytes: offset 0 (8 hex digits), then the hash.
      const page1 = sha1.pageHash ?? '';
      const page256 = sha256.pageHash ?? '';
      assert.ok(page1.startsWith('00000000') && page256.startsWith('00000000'), 'page hash tables start at offset 0');
      assert.equal(page1.slice(8, 48), ours.pageSha1, 'first-page SHA-1');
      assert.ok(page256.length >= 8 + 48, 'osslsigncode printed at least 24 bytes of the SHA-256 page hash');
      assert.equal(page256.slice(8), ours.pageSha256.slice(0, page256.length - 8), 'first-page SHA-256 (as far as printed)');
      compared.push(path);
    });
  }

  it('compared nearly every signed file (osslsigncode could not read at most one)', () => {
    assert.ok(compared.length >= signedFiles.length - 1, `compared ${compared.length}; unreadable: ${unreadable.join(', ')}`);
  });
});
