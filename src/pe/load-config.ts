import { hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';

export interface LoadConfig {
  /** The structure's own Size field (it grows with each Windows release). */
  size: number;
  securityCookie?: bigint;
  guardFlags?: number;
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
  const config: LoadConfig = { size };
  if (size >= cookieAt + space.pointerSize) {
    const cookie = space.pointer(dir.virtualAddress + cookieAt);
    if (cookie !== undefined) config.securityCookie = cookie;
  }
  if (size >= guardFlagsAt + 4) {
    const flags = space.u32(dir.virtualAddress + guardFlagsAt);
    if (flags !== undefined) config.guardFlags = flags;
  }
  return config;
}
