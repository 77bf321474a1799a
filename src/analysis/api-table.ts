/**
 * The one table of APIs that can hand out executable memory (rule book §2), with the
 * argument that decides it, where that argument is at the call, and the value test.
 * The call-site rules (execute-pool-type, execute-page-protection, execute-page-mapping,
 * execute-cache-type) are all driven from here.
 */

import type { RuleId } from '../rules/ids.js';

/** A: dangerous through an argument value; D: always executable; N: listed, no caller control. */
export type ApiClass = 'A' | 'D' | 'N';

export type ArgKind = 'pool-type' | 'pool-flags' | 'lookaside-flags' | 'page-protection' | 'cache-type' | 'mdl-priority' | 'vp-pool-type';

/** The rules this table drives (ids.ts is a leaf with no imports: the one rules module analysis may name). */
export type CallRuleId = Extract<RuleId, 'execute-pool-type' | 'execute-page-protection' | 'execute-page-mapping' | 'execute-cache-type' | 'execute-default-api'>;

export interface ApiArgument {
  /** 1-based position in the documented prototype (KMDF: as actually passed, after WdfDriverGlobals). */
  index: number;
  name: string;
  kind: ArgKind;
  /** x86 byte offset from esp at the call (stdcall: arg 1 at +0x0); PHYSICAL_ADDRESS/ULONG64 take 8 bytes. */
  x86Offset: number;
  /** Bytes of the argument (8 for ULONG64 flags). */
  size: number;
}

/**
 * A second argument that changes what an executable request means (rule book §2 notes):
 *   access-mode        MmMapLockedPagesSpecifyCache AccessMode: UserMode (1) maps into user space
 *   process-handle     Zw*VirtualMemory / Zw*MapViewOfSection ProcessHandle: only
 *                      NtCurrentProcess() (-1, System in a system thread) is kernel memory
 *   lookaside-allocate ExInitialize*LookasideList* Allocate: a custom routine allocates the
 *                      entries itself, so Flags / PoolType may not decide (C30034)
 *   flt-context-type   FltAllocateContext ContextType: the docs still require NonPagedPool for
 *                      FLT_VOLUME_CONTEXT (whether NX is accepted there is unconfirmed)
 * Executable user-space memory is not an HVCI violation (Driver Verifier still flags it), and
 * a custom lookaside allocator is analysed at its own calls: both become warnings.
 */
export interface ContextArgument {
  index: number;
  name: string;
  kind: 'access-mode' | 'process-handle' | 'lookaside-allocate' | 'flt-context-type';
  x86Offset: number;
}

export interface ApiSpec {
  name: string;
  module: string;
  cls: ApiClass;
  rule: CallRuleId;
  /** Class A: the argument that decides. */
  arg?: ApiArgument;
  /** Class D: severity when called (rule book §9: MmMapIoSpace error; MmMapLockedPages, MmAllocateContiguousMemory warning). */
  always?: 'error' | 'warning';
  /** What the rule book marks unconfirmed about this entry. */
  unconfirmed?: string;
  context?: ContextArgument;
  /** Class N: who decides the protection instead of the caller. */
  decides?: string;
}

const NT = 'ntoskrnl.exe';
const KMDF = 'Wdf01000.sys';
const a = (index: number, name: string, kind: ArgKind, x86Offset: number, size = 4): ApiArgument => ({ index, name, kind, x86Offset, size });
const pool = (name: string, module = NT, index = 1, x86Offset = 0): ApiSpec => ({
  name,
  module,
  cls: 'A',
  rule: 'execute-pool-type',
  arg: a(index, index === 1 ? 'PoolType' : 'PoolType', 'pool-type', x86Offset),
});
const prot = (name: string, index: number, argName: string, x86Offset: number, context?: ContextArgument): ApiSpec => ({
  name,
  module: NT,
  cls: 'A',
  rule: 'execute-page-protection',
  arg: a(index, argName, 'page-protection', x86Offset),
  ...(context ? { context } : {}),
});
const defaultApi = (name: string, module: string, decides: string, unconfirmed?: string): ApiSpec => ({
  name,
  module,
  cls: 'N',
  rule: 'execute-default-api',
  decides,
  ...(unconfirmed ? { unconfirmed } : {}),
});
const processHandle = (index: number, x86Offset: number): ContextArgument => ({ index, name: 'ProcessHandle', kind: 'process-handle', x86Offset });
const allocateRoutine: ContextArgument = { index: 2, name: 'Allocate', kind: 'lookaside-allocate', x86Offset: 0x4 };

/** Rule book §2, one row per API name. */
export const API_TABLE: readonly ApiSpec[] = [
  pool('ExAllocatePool'),
  pool('ExAllocatePoolWithQuota'),
  pool('ExAllocatePoolWithQuotaTag'),
  pool('ExAllocatePoolWithTag'),
  pool('ExAllocatePoolWithTagPriority'),
  { name: 'ExAllocatePool2', module: NT, cls: 'A', rule: 'execute-pool-type', arg: a(1, 'Flags', 'pool-flags', 0, 8) },
  { name: 'ExAllocatePool3', module: NT, cls: 'A', rule: 'execute-pool-type', arg: a(1, 'Flags', 'pool-flags', 0, 8) },
  pool('ExAllocateCacheAwareRundownProtection'),
  {
    name: 'ExInitializeNPagedLookasideList',
    module: NT,
    cls: 'A',
    rule: 'execute-pool-type',
    arg: a(4, 'Flags', 'lookaside-flags', 0xc),
    context: allocateRoutine,
  },
  { ...pool('ExInitializeLookasideListEx', NT, 4, 0xc), context: allocateRoutine },
  { name: 'MmAllocateContiguousMemory', module: NT, cls: 'D', rule: 'execute-cache-type', always: 'warning', unconfirmed: 'that it always returns executable memory' },
  { name: 'MmAllocateContiguousMemorySpecifyCache', module: NT, cls: 'A', rule: 'execute-cache-type', arg: a(5, 'CacheType', 'cache-type', 0x1c) },
  { name: 'MmAllocateContiguousMemorySpecifyCacheNode', module: NT, cls: 'A', rule: 'execute-cache-type', arg: a(5, 'CacheType', 'cache-type', 0x1c) },
  prot('MmAllocateContiguousNodeMemory', 5, 'Protect', 0x1c),
  { name: 'MmMapIoSpace', module: NT, cls: 'D', rule: 'execute-page-mapping', always: 'error' },
  prot('MmMapIoSpaceEx', 3, 'Protect', 0xc),
  { name: 'MmMapLockedPages', module: NT, cls: 'D', rule: 'execute-page-mapping', always: 'warning', unconfirmed: 'that the mapping is executable' },
  {
    name: 'MmMapLockedPagesSpecifyCache',
    module: NT,
    cls: 'A',
    rule: 'execute-page-mapping',
    arg: a(6, 'Priority', 'mdl-priority', 0x14),
    context: { index: 2, name: 'AccessMode', kind: 'access-mode', x86Offset: 0x4 },
  },
  prot('MmProtectMdlSystemAddress', 2, 'NewProtect', 0x4),
  prot('ZwAllocateVirtualMemory', 6, 'Protect', 0x14, processHandle(1, 0)),
  prot('NtAllocateVirtualMemory', 6, 'Protect', 0x14, processHandle(1, 0)),
  prot('ZwProtectVirtualMemory', 4, 'NewProtect', 0xc, processHandle(1, 0)),
  prot('ZwCreateSection', 5, 'SectionPageProtection', 0x10),
  prot('NtCreateSection', 5, 'SectionPageProtection', 0x10),
  prot('ZwMapViewOfSection', 10, 'Win32Protect', 0x24, processHandle(2, 0x4)),
  prot('NtMapViewOfSection', 10, 'Win32Protect', 0x24, processHandle(2, 0x4)),
  pool('FltAllocatePoolAlignedWithTag', 'fltmgr.sys', 2, 0x4),
  {
    ...pool('FltAllocateContext', 'fltmgr.sys', 4, 0xc),
    context: { index: 2, name: 'ContextType', kind: 'flt-context-type', x86Offset: 0x4 },
    unconfirmed: 'whether fltmgr accepts NonPagedPoolNx for volume contexts',
  },
  pool('ChangerClassAllocatePool', 'classpnp.sys'),
  {
    name: 'VideoPortAllocatePool',
    module: 'videoprt.sys',
    cls: 'A',
    rule: 'execute-pool-type',
    arg: a(2, 'PoolType', 'vp-pool-type', 0x4),
    unconfirmed: 'how videoprt maps VP_POOL_TYPE (no NX variant exists)',
  },
  pool('ClfsCreateMarshallingArea', 'clfs.sys', 2, 0x4),
  pool('ClfsCreateMarshallingAreaEx', 'clfs.sys', 2, 0x4),
  pool('PcNewDmaChannel', 'portcls.sys', 3, 0x8),
  pool('PcNewResourceList', 'portcls.sys', 3, 0x8),
  pool('PcNewResourceSublist', 'portcls.sys', 3, 0x8),
  // Class N: the component decides the protection, the caller cannot (rule book §2; execute-default-api notes).
  ...['MmMapViewInSystemSpace', 'MmMapLockedPagesWithReservedMapping'].map((name) => defaultApi(name, NT, 'the memory manager picks the protection')),
  defaultApi('MmCopyMemory', NT, 'the memory manager maps the source itself', 'why MmCopyMemory is listed at all'),
  ...['NdisAllocateMemoryWithTagPriority', 'NdisAllocateMemory', 'NdisAllocateMemoryWithTag'].map((name) =>
    defaultApi(name, 'ndis.sys', 'NDIS picks the pool type', 'that NDIS allocates NX memory'),
  ),
  defaultApi('StorPortGetSystemAddress', 'storport.sys', 'StorPort maps the buffer'),
  // KMDF methods (called through the WdfFunctions table, kmdf.ts): actual positions, after WdfDriverGlobals.
  pool('WdfMemoryCreate', KMDF, 3, 0x8),
  ...[
    'WdfLookasideListCreate',
    'WdfDeviceAllocAndQueryProperty',
    'WdfDeviceAllocAndQueryPropertyEx',
    'WdfFdoInitAllocAndQueryProperty',
    'WdfFdoInitAllocAndQueryPropertyEx',
    'WdfIoTargetAllocAndQueryTargetProperty',
    'WdfRegistryQueryMemory',
  ].map((name) => pool(name, KMDF, 4, 0xc)),
];

const BY_NAME = new Map(API_TABLE.map((s) => [s.name, s]));

/** The table entry for an imported name (case-sensitive, as the loader matches). */
export function apiSpec(name: string): ApiSpec | undefined {
  return BY_NAME.get(name);
}

export type Executability = 'executable' | 'non-executable' | 'undecided';

/**
 * The rule book's value tests. `value` is exact when `known` is all ones; otherwise only
 * the bits in `known` are certain (an `or 0x200` on an unknown value still proves NX).
 */
export function executability(kind: ArgKind, value: bigint, known: bigint = ALL): Executability {
  const bit = (mask: bigint): 'set' | 'clear' | 'unknown' => ((known & mask) !== mask ? 'unknown' : (value & mask) !== 0n ? 'set' : 'clear');
  switch (kind) {
    case 'pool-type': {
      // execPool(pt) = (pt & 1) == 0 && (pt & 0x200) == 0
      const paged = bit(1n);
      const nx = bit(0x200n);
      if (paged === 'set' || nx === 'set') return 'non-executable';
      return paged === 'clear' && nx === 'clear' ? 'executable' : 'undecided';
    }
    case 'pool-flags': {
      const x = bit(0x80n);
      return x === 'set' ? 'executable' : x === 'clear' ? 'non-executable' : 'undecided';
    }
    case 'lookaside-flags': {
      const nx = bit(0x200n);
      return nx === 'set' ? 'non-executable' : nx === 'clear' ? 'executable' : 'undecided';
    }
    case 'page-protection': {
      const x = bit(0xf0n);
      if ((value & known & 0xf0n) !== 0n) return 'executable';
      return x === 'clear' ? 'non-executable' : 'undecided';
    }
    case 'mdl-priority': {
      const nx = bit(0x40000000n);
      return nx === 'set' ? 'non-executable' : nx === 'clear' ? 'executable' : 'undecided';
    }
    case 'cache-type':
      if (known !== ALL) return 'undecided';
      return (value & 0xffffffffn) === 1n ? 'executable' : 'non-executable';
    case 'vp-pool-type':
      if (known !== ALL) return 'undecided';
      return (value & 0xffffffffn) === 0n || (value & 0xffffffffn) === 4n ? 'executable' : 'non-executable';
  }
}

const ALL = 0xffffffffffffffffn;
