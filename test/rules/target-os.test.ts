import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { includesPre1703, parseTargetOs } from '../../src/rules/target-os.js';

describe('parseTargetOs', () => {
  it('knows release names, aliases and build numbers', () => {
    assert.deepEqual(parseTargetOs('win10-1607'), { name: 'win10-1607', minBuild: 14393 });
    assert.deepEqual(parseTargetOs('WIN11'), { name: 'win11-21h2', minBuild: 22000 });
    assert.deepEqual(parseTargetOs('server2016'), { name: 'server2016', minBuild: 14393 });
    assert.deepEqual(parseTargetOs('10.0.15063'), { name: 'build-15063', minBuild: 15063 });
  });
  it('rejects what it does not know', () => {
    assert.equal(parseTargetOs('win7'), undefined);
    assert.equal(parseTargetOs(''), undefined);
  });
  it('puts the straddling-relocation cut at 1703 (build 15063)', () => {
    assert.equal(includesPre1703(parseTargetOs('win10-1607')!), true);
    assert.equal(includesPre1703(parseTargetOs('server2016')!), true);
    assert.equal(includesPre1703(parseTargetOs('win10-1703')!), false);
    assert.equal(includesPre1703(parseTargetOs('win11')!), false);
  });
});
