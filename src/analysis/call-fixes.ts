/**
 * The fix text of a checked call: what to pass or call instead, by API (class D) or by the kind
 * of deciding argument (class A). User-facing text, kept apart from the analysis.
 */
import type { ApiArgument } from './api-table.js';

/** A class D API: the variant that takes a non-executable protection. */
export function alwaysFix(api: string): string {
  switch (api) {
    case 'MmMapIoSpace':
      return 'Use MmMapIoSpaceEx with PAGE_READWRITE | PAGE_NOCACHE (or another non-executable protection).';
    case 'MmMapLockedPages':
      return 'Use MmMapLockedPagesSpecifyCache (or MmGetSystemAddressForMdlSafe) with MdlMappingNoExecute in Priority.';
    case 'MmAllocateContiguousMemory':
      return 'Use MmAllocateContiguousNodeMemory with PAGE_READWRITE.';
    default:
      return 'Use a variant of the API that takes a non-executable protection.';
  }
}

/** A class A API: what to pass in the deciding argument. */
export function argumentFix(arg: ApiArgument): string {
  switch (arg.kind) {
    case 'pool-type':
    case 'vp-pool-type':
      return `Pass NonPagedPoolNx (or a paged type) as ${arg.name}, or opt in with POOL_NX_OPTIN.`;
    case 'pool-flags':
      return `Use POOL_FLAG_NON_PAGED instead of POOL_FLAG_NON_PAGED_EXECUTE in ${arg.name}.`;
    case 'lookaside-flags':
      return `Pass POOL_NX_ALLOCATION (0x200) in ${arg.name}.`;
    case 'page-protection':
      return `Pass a PAGE_* protection without EXECUTE as ${arg.name}.`;
    case 'cache-type':
      return `Pass MmNonCached or use MmAllocateContiguousNodeMemory with PAGE_READWRITE.`;
    case 'mdl-priority':
      return `OR MdlMappingNoExecute into ${arg.name}.`;
  }
}
