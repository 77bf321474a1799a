import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { renderSystemJson, renderSystemText, systemFromOutputs } from '../system/index.js';
import { UsageError } from './explain-command.js';

/** PowerShell's `>` writes UTF-16LE with a BOM; everything else here is UTF-8 (BOM or not). */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}

export interface SystemFlags {
  from?: string[];
  format: 'text' | 'json';
}

/**
 * hvci system --from FILE…: saved Windows outputs from a support ticket, explained together.
 * Reading the live machine (PowerShell, registry, pnputil) and offline trees (--root) are not
 * built yet; without --from this is a usage error with one clear line.
 */
export async function runSystem(flags: SystemFlags): Promise<{ text: string; blocking: number }> {
  if (!flags.from || flags.from.length === 0) {
    throw new UsageError(
      'hvci system needs --from FILE (saved Win32_DeviceGuard, "Review incompatible drivers", pnputil, CodeIntegrity event text); reading this machine directly is not implemented yet',
    );
  }
  const outputs = [];
  for (const file of flags.from) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new UsageError(`${file}: cannot read it: ${e instanceof Error ? e.message : String(e)}`);
    }
    outputs.push({ name: basename(file), text: decodeText(bytes) });
  }
  const report = systemFromOutputs(outputs);
  return { text: flags.format === 'json' ? renderSystemJson(report) : renderSystemText(report), blocking: report.summary.blocking };
}
