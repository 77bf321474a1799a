/**
 * vulnerable-driver-blocklist without the corpus: policy parsing, the deny version
 * semantics, and hash matching on our own fixtures with hashes computed here by an
 * independent, linear implementation (node:crypto over the file with CheckSum and the
 * Certificate Table entry skipped, as osslsigncode does). The real block rules and real
 * signed drivers are in test-corpus/blocklist.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/analyze.js';
import { BlocklistError, bundledBlocklist, inDenyRange, parseVersion } from '../../src/blocklist/index.js';
import { parseBlocklistXml } from '../../src/blocklist/policy-xml.js';
import { imageFixtures } from '../helpers/paths.js';
import { ruleById } from '../../src/rules/index.js';
import { bin, built, ruleTester } from '../helpers/rule-tester.js';

const RULE = 'vulnerable-driver-blocklist';
const FIXTURE = join(imageFixtures, 'clean_driver.x64.mingw.sys');

/** A minimal SiPolicy: FileRules, Signers and the kernel scenario's references. */
function policy(parts: { fileRules?: string; refs?: string[]; signers?: string; denied?: string[] }): string {
  return `\uFEFF<?xml version="1.0" encoding="utf-8"?>
<SiPolicy xmlns="urn:schemas-microsoft-com:sipolicy">
  <VersionEx>10.0.1.2</VersionEx>
  <FileRules><Allow ID="ID_ALLOW_ALL" FriendlyName="" FileName="*" />${parts.fileRules ?? ''}</FileRules>
  <Signers>${parts.signers ?? ''}</Signers>
  <SigningScenarios>
    <SigningScenario Value="131" ID="K" FriendlyName="kernel">
      <ProductSigners>
        <DeniedSigners>${(parts.denied ?? []).map((id) => `<DeniedSigner SignerId="${id}" />`).join('')}</DeniedSigners>
        <FileRulesRef><FileRuleRef RuleID="ID_ALLOW_ALL" />${(parts.refs ?? []).map((id) => `<FileRuleRef RuleID="${id}" />`).join('')}</FileRulesRef>
      </ProductSigners>
    </SigningScenario>
    <SigningScenario Value="12" ID="U" FriendlyName="user"><ProductSigners /></SigningScenario>
  </SigningScenarios>
  <Settings><Setting Provider="PolicyInfo" Key="Information" ValueName="Name"><Value><String>Test Driver Policy</String></Value></Setting></Settings>
</SiPolicy>`;
}

/** Independent Authenticode-style hashes of an unsigned PE: linear, CheckSum and directory entry 4 skipped. */
function independentHashes(bytes: Buffer): { sha256: string; pageSha256: string; sha1: string } {
  const peAt = bytes.readUInt32LE(0x3c);
  const opt = peAt + 24;
  const is64 = bytes.readUInt16LE(opt) === 0x20b;
  const checksum = opt + 64;
  const certEntry = opt + (is64 ? 112 : 96) + 4 * 8;
  const sizeOfHeaders = bytes.readUInt32LE(opt + 60);
  assert.equal(bytes.readUInt32LE(certEntry + 4), 0, 'the fixture is unsigned (or the linear hash is not the Authenticode one)');
  const ranges: Array<[number, number]> = [[0, checksum], [checksum + 4, certEntry], [certEntry + 8, bytes.length]];
  const digest = (alg: string, parts: Array<[number, number]>, pad = 0) => {
    const h = createHash(alg);
    for (const [a, b] of parts) h.update(bytes.subarray(a, b));
    if (pad) h.update(Buffer.alloc(pad));
    return h.digest('hex');
  };
  const headerRanges: Array<[number, number]> = [[0, checksum], [checksum + 4, certEntry], [certEntry + 8, sizeOfHeaders]];
  return { sha256: digest('sha256', ranges), sha1: digest('sha1', ranges), pageSha256: digest('sha256', headerRanges, 0x1000 - sizeOfHeaders) };
}

describe('vulnerable-driver-blocklist', () => {
  const bytes = readFileSync(FIXTURE);
  const h = independentHashes(bytes);

  it('reports nothing for a clean fixture against the bundled rules', () => {
    const report = analyze(bytes, { path: FIXTURE });
    assert.deepEqual(report.findings.filter((f) => f.ruleId === RULE), []);
    assert.ok(bundledBlocklist().hashRules.length > 1000, 'the bundled rules are loaded (or this proves nothing)');
  });

  for (const [variant, hash] of [['SHA-256', h.sha256], ['SHA-1', h.sha1], ['page SHA-256', h.pageSha256]] as const) {
    it(`matches a Deny rule by ${variant} (upper-case hex, as Microsoft writes it)`, () => {
      const blocklist = parseBlocklistXml(policy({ fileRules: `<Deny ID="ID_DENY_X" FriendlyName="clean_driver Hash" Hash="${hash.toUpperCase()}" />`, refs: ['ID_DENY_X'] }));
      const findings = analyze(bytes, { path: FIXTURE, blocklist }).findings.filter((f) => f.ruleId === RULE);
      assert.equal(findings.length, 1);
      assert.equal(findings[0]?.severity, 'error');
      assert.equal((findings[0]?.evidence?.blocklist as { variant: string }).variant, variant);
      assert.match(findings[0]?.message ?? '', /known to be exploitable.*rule ID_DENY_X, "clean_driver Hash"; policy Test Driver Policy 10\.0\.1\.2/);
    });
  }

  it('falls back to the flat file hash only for an image Authenticode cannot hash (section data cut off)', () => {
    const cut = bytes.subarray(0, bytes.length - 0x100);
    const flat = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const rules = `<Deny ID="ID_DENY_CUT" FriendlyName="cut" Hash="${flat(cut)}" /><Deny ID="ID_DENY_WHOLE" FriendlyName="whole" Hash="${flat(bytes)}" />`;
    const blocklist = parseBlocklistXml(policy({ fileRules: rules, refs: ['ID_DENY_CUT', 'ID_DENY_WHOLE'] }));
    const onCut = analyze(new Uint8Array(cut), { path: 'cut.sys', blocklist }).findings.filter((f) => f.ruleId === RULE);
    assert.deepEqual(onCut.map((f) => (f.evidence?.blocklist as { variant: string }).variant), ['flat-file SHA-256']);
    // The intact file is well formed: its flat hash is not what Windows compares.
    assert.deepEqual(analyze(bytes, { path: FIXTURE, blocklist }).findings.filter((f) => f.ruleId === RULE), []);
  });

  it('ignores Deny rules the kernel scenario does not reference, and Allow rules', () => {
    const other = '00'.repeat(32);
    const blocklist = parseBlocklistXml(
      policy({
        fileRules: `<Deny ID="ID_DENY_X" FriendlyName="x" Hash="${h.sha256}" /><Deny ID="ID_DENY_Y" FriendlyName="y" Hash="${other}" />`,
        refs: ['ID_DENY_Y'],
      }),
    );
    assert.deepEqual(blocklist.hashRules.map((r) => r.id), ['ID_DENY_Y']);
    assert.deepEqual(analyze(bytes, { path: FIXTURE, blocklist }).findings.filter((f) => f.ruleId === RULE), []);
  });

  it('resolves a denied signer\'s CertRoot, CertPublisher and FileAttribRef', () => {
    const blocklist = parseBlocklistXml(
      policy({
        fileRules: '<FileAttrib ID="FA" FriendlyName="fa" FileName="x.sys" MinimumFileVersion="1.0.0.0" />',
        signers: '<Signer ID="S" Name="Some CA"><CertRoot Type="TBS" Value="ABCDEF0123456789ABCDEF0123456789ABCDEF01" /><CertPublisher Value="Vendor" /><FileAttribRef RuleID="FA" /></Signer>',
        denied: ['S'],
      }),
    );
    assert.deepEqual(blocklist.signers, [
      {
        id: 'S',
        name: 'Some CA',
        certRoot: 'abcdef0123456789abcdef0123456789abcdef01',
        publisher: 'Vendor',
        fileAttribs: [{ id: 'FA', friendlyName: 'fa', fileName: 'x.sys', min: '1.0.0.0' }],
      },
    ]);
    assert.equal(blocklist.policy.name, 'Test Driver Policy');
    assert.equal(blocklist.policy.version, '10.0.1.2');
  });

  it('refuses what is not a policy, with a reason', () => {
    assert.throws(() => parseBlocklistXml('<html/>'), (e: unknown) => e instanceof BlocklistError && /no <SiPolicy> root/.test(e.message));
    assert.throws(() => parseBlocklistXml('<SiPolicy><'), BlocklistError);
    assert.throws(() => parseBlocklistXml(policy({})), /denies nothing/);
  });
});

describe('deny version ranges (Microsoft "File rule levels", FORMAT.md)', () => {
  const v = (s: string) => parseVersion(s) as number[];
  it('Min and Max: inclusive range', () => {
    assert.ok(inDenyRange({ min: '1.0.0.0', max: '2.0.0.0' }, v('1.0.0.0')));
    assert.ok(inDenyRange({ min: '1.0.0.0', max: '2.0.0.0' }, v('2.0.0.0')));
    assert.ok(!inDenyRange({ min: '1.0.0.0', max: '2.0.0.0' }, v('2.0.0.1')));
    assert.ok(!inDenyRange({ min: '1.0.0.1', max: '2.0.0.0' }, v('1.0.0.0')));
  });
  it('only Minimum: that version and older are denied', () => {
    assert.ok(inDenyRange({ min: '3.1.0.0' }, v('3.0.65535.65535')));
    assert.ok(inDenyRange({ min: '3.1.0.0' }, v('3.1.0.0')));
    assert.ok(!inDenyRange({ min: '3.1.0.0' }, v('3.1.0.1')));
  });
  it('only Maximum: that version and newer are denied', () => {
    assert.ok(inDenyRange({ max: '5.0.0.0' }, v('5.0.0.0')));
    assert.ok(!inDenyRange({ max: '5.0.0.0' }, v('4.9.9.9')));
  });
  it('compares numerically, part by part (10 > 9)', () => {
    assert.ok(!inDenyRange({ min: '0.0.0.0', max: '9.0.0.0' }, v('10.0.0.0')));
    assert.deepEqual(v('4.0.1'), [4, 0, 1, 0]);
  });
});

// Valid, invalid and not-applicable cases; the hash in the test policy is computed independently above.
ruleTester(ruleById('vulnerable-driver-blocklist'), {
  valid: [bin('image/bin/clean_driver.x64.mingw.sys'), bin('arm64/bin/clean_driver.arm64.clang.sys')],
  invalid: [
    {
      input: built('clean_driver.x64.mingw.sys against a policy that denies its SHA-256', () => new Uint8Array(readFileSync(FIXTURE)), {
        blocklist: parseBlocklistXml(policy({ fileRules: `<Deny ID="ID_DENY_T" FriendlyName="t" Hash="${independentHashes(readFileSync(FIXTURE)).sha256}" />`, refs: ['ID_DENY_T'] })),
      }),
      findings: [{ messageId: 'hash', severity: 'error' }],
    },
  ],
  notApplicable: [{ input: bin('image/bin/user_dll.x64.mingw.sys'), reason: /^not kernel-mode code \(dll\)/ }],
  unproduced: {
    fileName: 'needs a driver with a version resource: test-corpus/blocklist.test.ts (file-name rules on corpus drivers)',
    signer: 'needs a signed driver: test-corpus/blocklist.test.ts (denied signers on corpus drivers)',
  },
});
