import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';

export interface LoadConfig {
  /** The structure's own Size field (it grows with each Windows release). */
  size: number;
  securityCookie?: bigint;
  guardFlags?: number;
  /** VA of the pointer CFG-instrumented code calls to check an indirect target (x86 form). */
  guardCheckFunctionPointer?: bigint;
  /** VA of the pointer x64 CFG code calls instead of `call reg`; the target travels in RAX. */
  guardDispatchFunctionPointer?: bigint;
}

export function parseLoadConfig(space: AddressSpace): LoadConfig | undefined {
  const dir = space.directory(DirectoryIndex.loadConfig);
  if (!dir) return undefined;
  const size = space.u32(dir.virtualAddress);
  if (size === undefined) {
    space.log.add('LOAD_CONFIG_MALFORMED', `load config directory at RVA ${hex(dir.virtualAddress)} is outside the image`);
    return undefined;
  }
  const cookieAt = space.is64 ? 0x58 : 0x3c;
  const guardFlagsAt = space.is64 ? 0x90 : 0x58;
  const guardCheckAt = space.is64 ? 0x70 : 0x48;
  const guardDispatchAt = space.is64 ? 0x78 : 0x4c;
  const config: LoadConfig = { size };
  if (size >= cookieAt + space.pointerSize) {
    const cookie = space.pointer(dir.virtualAddress + cookieAt);
    if (cookie !== undefined) config.securityCookie = cookie;
  }
  for (const [at, key] of [
    [guardCheckAt, 'guardCheckFunctionPointer'],
    [guardDispatchAt, 'guardDispatchFunctionPointer'],
  ] as const) {
    const va = size >= at + space.pointerSize ? space.pointer(dir.virtualAddress + at) : undefined;
    if (va !== undefined && va !== 0n) config[key] = va;
  }
  if (size >= guardFlagsAt + 4) {
    const flags = space.u32(dir.virtualAddress + guardFlagsAt);
    if (flags !== undefined) config.guardFlags = flags;
  }
  return config;
}
