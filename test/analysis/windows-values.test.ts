/**
 * The one table of Windows value names (src/analysis/windows-values.ts), against the values the
 * WDK headers give (wdm.h, ntddk.h: POOL_TYPE, PAGE_*, MM_PAGE_PRIORITY, MdlMapping*, POOL_FLAG_*,
 * MEMORY_CACHING_TYPE). Both the call-site rules and explain name values through it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isExecutablePoolType,
  isExecutableProtection,
  lacksMdlNoExecute,
  nxPoolType,
  nxProtection,
  poolTagText,
  poolTypeName,
  priorityName,
  protectionName,
  saferValue,
  symbolic,
  valueName,
} from '../../src/analysis/windows-values.js';

describe('Windows value names', () => {
  it('pool types, with modifiers, and their NX twins', () => {
    assert.equal(poolTypeName(0), 'NonPagedPool');
    assert.equal(poolTypeName(0x200), 'NonPagedPoolNx');
    assert.equal(poolTypeName(0x400), 'NonPagedPool | POOL_ZERO_ALLOCATION');
    assert.equal(poolTypeName(0x2000), 'an unknown pool type');
    assert.equal(nxPoolType(4), 'NonPagedPoolNxCacheAligned (0x204)');
    assert.ok(isExecutablePoolType(0) && isExecutablePoolType(4) && !isExecutablePoolType(1) && !isExecutablePoolType(0x200));
  });
  it('page protections and the C30030 replacement', () => {
    assert.equal(protectionName(0x40), 'PAGE_EXECUTE_READWRITE');
    assert.equal(protectionName(0x204), 'PAGE_READWRITE | PAGE_NOCACHE');
    assert.equal(nxProtection(0x40), 'PAGE_READWRITE (0x4)');
    assert.equal(nxProtection(0x20), 'PAGE_READONLY (0x2)');
    assert.ok(isExecutableProtection(0x10) && !isExecutableProtection(0x4));
  });
  it('MDL priorities with MdlMapping flags (the high bit too)', () => {
    assert.equal(priorityName(0x40000010), 'NormalPagePriority | MdlMappingNoExecute');
    assert.equal(priorityName(0x80000020), 'HighPagePriority | MdlMappingNoWrite');
    assert.ok(lacksMdlNoExecute(0x10) && !lacksMdlNoExecute(0x40000010));
  });
  it('ExAllocatePool2 flags, lookaside flags, cache types, VP pool types', () => {
    assert.equal(valueName('pool-flags', 0x80), 'POOL_FLAG_NON_PAGED_EXECUTE');
    assert.equal(valueName('lookaside-flags', 0x200), 'POOL_NX_ALLOCATION');
    assert.equal(valueName('lookaside-flags', 0), '0');
    assert.equal(valueName('cache-type', 1), 'MmCached');
    assert.equal(valueName('vp-pool-type', 0), 'VpNonPagedPool');
  });
  it('a value in a finding, and the value to pass instead', () => {
    assert.equal(symbolic('pool-type', 0n), 'NonPagedPool (0x0)');
    assert.equal(symbolic('pool-type', 0x2000n), '0x2000');
    assert.equal(saferValue('pool-flags', 0x80n), 'POOL_FLAG_NON_PAGED (0x40)');
    assert.equal(saferValue('page-protection', 0x40n), 'PAGE_READWRITE (0x4)');
    assert.equal(saferValue('mdl-priority', 0x10n), 'NormalPagePriority | MdlMappingNoExecute (0x40000010)');
  });
  it('pool tags as they read in memory', () => {
    assert.equal(poolTagText(0x484d454dn), 'MEMH');
    assert.equal(poolTagText(0n), undefined);
    assert.equal(poolTagText(0x01020304n), undefined);
  });
});
