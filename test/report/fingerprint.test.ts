/**
 * Fingerprints survive a rebuild: test/fixtures/fingerprint/build.sh builds one driver
 * three ways with mingw-w64 gcc — base, extra (one unrelated 4 KiB function added before
 * the others, so every later RVA moves) and changed (another pool type at the call).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findImportCallSites } from '../../src/analysis/call-sites.js';
import { CodeModel, codeModelOf } from '../../src/analysis/code-model.js';
import { analyze } from '../../src/index.js';
import { parsePe, type PeImage } from '../../src/pe/index.js';
import { codeAroundIn, normalisedCodeAround } from '../../src/analysis/call-site-code.js';
import { assignFingerprints, baseFingerprint } from '../../src/report/fingerprint.js';
import type { Finding } from '../../src/report/model.js';
import { repoRoot } from '../helpers/paths.js';

const bin = join(repoRoot, 'test', 'fixtures', 'fingerprint', 'bin');
const bytes = (name: string) => new Uint8Array(readFileSync(join(bin, name)));
const image = (name: string): PeImage => {
  const parsed = parsePe(bytes(name));
  assert.ok(parsed.ok);
  return parsed.image;
};

/** The call to ExAllocatePoolWithTag, as the call-site rules will report it. */
function poolCall(name: string): { image: PeImage; finding: Finding } {
  const img = image(name);
  const model = codeModelOf(img);
  assert.ok(model instanceof CodeModel);
  const sites = findImportCallSites(model, { apis: new Set(['ExAllocatePoolWithTag']) });
  assert.equal(sites.length, 1, `${name}: one call site`);
  const site = sites[0] as (typeof sites)[number];
  const value = name.startsWith('changed') ? 'NonPagedPoolCacheAligned (0x4)' : 'NonPagedPool (0x0)';
  const finding: Finding = {
    ruleId: 'execute-pool-type',
    severity: 'error',
    message: `ExAllocatePoolWithTag is called with ${value}.`,
    messageId: 'pool',
    arguments: { api: 'ExAllocatePoolWithTag', value, callRva: `0x${site.callRva.toString(16)}`, function: `sub_${site.fn.start.toString(16)}` },
    rva: site.callRva,
    // The shape src/rules/call-site-rule.ts gives call-site evidence.
    evidence: { api: 'ExAllocatePoolWithTag', function: `sub_${site.fn.start.toString(16)}`, argument: { index: 1, name: 'PoolType' }, value },
    fix: 'Use NonPagedPoolNx.',
    docs: 'docs/rules/execute-pool-type.md',
  };
  return { image: img, finding };
}

for (const arch of ['x64', 'x86']) {
  describe(`fingerprints, ${arch} (base vs. extra vs. changed)`, () => {
    const [base, extra, changed] = ['base', 'extra', 'changed'].map((v) => `${v}.${arch}.mingw.sys`) as [string, string, string];

    it('image-level findings: equal after adding an unrelated function, although the RVAs moved', () => {
      const a = analyze(bytes(base), { path: base }).findings.find((f) => f.ruleId === 'execute-write-section');
      const b = analyze(bytes(extra), { path: extra }).findings.find((f) => f.ruleId === 'execute-write-section');
      assert.ok(a && b);
      assert.notEqual(a.rva, b.rva, 'the fixture must move the section, or this test proves nothing');
      assert.ok(a.fingerprint?.startsWith('v1:'));
      assert.equal(a.fingerprint, b.fingerprint);
    });

    it('call-site findings: equal after adding an unrelated function, although the call moved', () => {
      const a = poolCall(base);
      const b = poolCall(extra);
      assert.notEqual(a.finding.rva, b.finding.rva, 'the fixture must move the call');
      assert.notEqual(a.finding.evidence?.function, b.finding.evidence?.function, 'sub_<rva> names move too');
      const code = normalisedCodeAround(a.image, a.finding.rva as number);
      assert.match(code ?? '', /call \[IMPORT ExAllocatePoolWithTag\]$/);
      assert.equal(code, normalisedCodeAround(b.image, b.finding.rva as number));
      assert.equal(baseFingerprint(a.finding, codeAroundIn(a.image)), baseFingerprint(b.finding, codeAroundIn(b.image)));
    });

    it('call-site findings from the real rule: equal after adding an unrelated function', () => {
      const pool = (name: string) => analyze(bytes(name), { path: name }).findings.filter((f) => f.ruleId === 'execute-pool-type');
      const [a, b, c] = [pool(base), pool(extra), pool(changed)];
      assert.equal(a.length, 1);
      assert.notEqual(a[0]?.rva, b[0]?.rva);
      assert.deepEqual(b.map((f) => f.fingerprint), a.map((f) => f.fingerprint));
      assert.notEqual(c[0]?.fingerprint, a[0]?.fingerprint);
    });

    it('call-site findings: different when the call itself changes (another pool type)', () => {
      const a = poolCall(base);
      const c = poolCall(changed);
      assert.notEqual(normalisedCodeAround(a.image, a.finding.rva as number), normalisedCodeAround(c.image, c.finding.rva as number));
      assert.notEqual(baseFingerprint(a.finding, codeAroundIn(a.image)), baseFingerprint(c.finding, codeAroundIn(c.image)));
      // Same value text but changed code must still differ: the code hash is part of it.
      const sameText = { ...c.finding, arguments: a.finding.arguments, evidence: { ...c.finding.evidence, value: a.finding.evidence?.value } };
      assert.notEqual(baseFingerprint(a.finding, codeAroundIn(a.image)), baseFingerprint(sameText, codeAroundIn(c.image)));
    });
  });
}

describe('occurrence numbers', () => {
  it('tell identical findings in one file apart, in report order', () => {
    const f = (): Finding => ({ ruleId: 'cr0-write', severity: 'error', message: 'm', messageId: 'm', arguments: { section: '.x' }, fix: '', docs: '' });
    const list = [f(), f(), { ...f(), arguments: { section: '.y' } }];
    assignFingerprints(list);
    const [a, b, c] = list.map((x) => x.fingerprint as string);
    assert.equal(b, `${a}:2`);
    assert.ok(!(c as string).includes(':', 3));
  });
  it('leave out RVAs, offsets and sizes', () => {
    const f = (rva: string): Finding => ({
      ruleId: 'cr0-write', severity: 'error', message: 'm', messageId: 'm', arguments: { rva, size: rva, offset: rva, type: 'DIR64' }, rva: Number(rva), fix: '', docs: '',
    });
    assert.equal(baseFingerprint(f('0x1000')), baseFingerprint(f('0x2000')));
  });
});
