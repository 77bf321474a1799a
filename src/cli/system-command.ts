import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { renderSystemHtml, renderSystemJson, renderSystemText, systemFromOutputs, type SystemReport } from '../system/index.js';
import { UsageError } from './explain-command.js';
import { loadBlocklist } from './policy-files.js';
import { systemFromRoot } from './system-root.js';
import { DEFAULT_TARGET_OS } from '../rules/target-os.js';
import './node-digests.js'; // native digests for the core (src/digest)

/** PowerShell's `>` writes UTF-16LE with a BOM; everything else here is UTF-8 (BOM or not). */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}

export interface SystemFlags {
  from?: string[];
  root?: string;
  blocklist?: string;
  format: 'text' | 'json' | 'html';
}

/**
 * hvci system --root DIR: an offline Windows tree; --from FILE…: saved Windows outputs from a
 * support ticket, explained together. Reading the live machine (PowerShell, registry,
 * pnputil) is not built yet; without --root or --from this is a usage error with one line.
 */
export async function runSystem(flags: SystemFlags): Promise<{ text: string; blocking: number }> {
  const render = (r: SystemReport) => ({
    text: flags.format === 'json' ? renderSystemJson(r) : flags.format === 'html' ? renderSystemHtml(r) : renderSystemText(r),
    blocking: r.summary.blocking,
  });
  if (flags.root !== undefined) {
    if (flags.from?.length) throw new UsageError('use --root DIR or --from FILE…, not both');
    try {
      if (!(await stat(flags.root)).isDirectory()) throw new UsageError(`${flags.root}: not a directory`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${flags.root}: cannot read it: ${e instanceof Error ? e.message : String(e)}`);
    }
    const blocklist = flags.blocklist === undefined ? undefined : await loadBlocklist(flags.blocklist).catch((e: unknown) => {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    });
    return render(await systemFromRoot(flags.root, { targetOs: DEFAULT_TARGET_OS, ...(blocklist ? { blocklist } : {}) }));
  }
  if (!flags.from || flags.from.length === 0) {
    throw new UsageError(
      'hvci system needs --root DIR (an offline Windows tree) or --from FILE (saved Win32_DeviceGuard, "Review incompatible drivers", pnputil, CodeIntegrity event text); reading this machine directly is not implemented yet',
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
  return render(systemFromOutputs(outputs));
}
