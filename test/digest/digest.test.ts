import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { nodeDigests } from '../../src/cli/node-digests.js';
import { createDigest, type DigestFactory, type DigestName, pureDigests, useDigests } from '../../src/digest/index.js';
import { parsePe } from '../../src/pe/index.js';
import { join } from 'node:path';
import { authenticodeHashes } from '../../src/signature/index.js';
import { imageFixtures } from '../helpers/paths.js';

const NAMES: DigestName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const ABC = new TextEncoder().encode('abc');

describe('digests (src/digest)', () => {
  it('the pure-JS and node:crypto implementations agree, part by part, on the FIPS 180 "abc" vectors', () => {
    const expected: Record<DigestName, string> = {
      'SHA-1': 'a9993e364706816aba3e25717850c26c9cd0d89d',
      'SHA-256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      'SHA-384': 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
      'SHA-512':
        'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    };
    for (const impl of [pureDigests, nodeDigests]) {
      for (const name of NAMES) {
        const d = impl(name);
        d.update(ABC.subarray(0, 1));
        d.update(ABC.subarray(1));
        assert.equal(d.hex(), expected[name], name);
      }
    }
  });

  it('useDigests decides what the core hashes with, and both give the same Authenticode hashes', () => {
    const bytes = readFileSync(join(imageFixtures, 'clean_driver.x64.mingw.sys'));
    const used: DigestName[] = [];
    const counting: DigestFactory = (name) => {
      used.push(name);
      return pureDigests(name);
    };
    const hashesWith = (factory: DigestFactory) => {
      useDigests(factory);
      const parsed = parsePe(bytes);
      assert.ok(parsed.ok);
      return authenticodeHashes(parsed.image);
    };
    try {
      const viaCounting = hashesWith(counting);
      assert.deepEqual([...new Set(used)].sort(), ['SHA-1', 'SHA-256']);
      const viaNode = hashesWith(nodeDigests);
      assert.deepEqual(viaNode, viaCounting);
      // Installed means used: the next digest comes from the factory installed last.
      useDigests(counting);
      used.length = 0;
      createDigest('SHA-384').hex();
      assert.deepEqual(used, ['SHA-384']);
    } finally {
      useDigests(pureDigests);
    }
  });
});
