import { ByteView } from './bytes.js';
import { parseHeaders } from './headers.js';
import { PeImage } from './image.js';
import { IssueLog, type PeIssue } from './issues.js';
import { parseSectionTable } from './sections.js';

/** Files smaller than one page whose headers run past their end are read zero-padded. */
const TINY_IMAGE_LIMIT = 0x1000;

export type ParseResult = { ok: true; image: PeImage } | { ok: false; error: PeIssue };

/**
 * Parses a PE/COFF image without copying it. Fails only when there is nothing to
 * analyse (no MZ, no PE signature, no usable optional header); every other problem is
 * recorded in `image.issues` and parsing goes on.
 */
export function parsePe(bytes: Uint8Array): ParseResult {
  let view = new ByteView(bytes);
  const log = new IssueLog();
  let headers = parseHeaders(view, log);
  if ('code' in headers && headers.code === 'OPTIONAL_HEADER_TRUNCATED' && bytes.length < TINY_IMAGE_LIMIT) {
    // Hand-made tiny images end inside their own optional header; the loader maps the
    // file into a zeroed page, so read the missing header bytes as zero, as it does.
    const padded = new Uint8Array(TINY_IMAGE_LIMIT);
    padded.set(bytes);
    view = new ByteView(padded);
    headers = parseHeaders(view, log);
    if (!('code' in headers)) {
      log.add(
        'OPTIONAL_HEADER_TRUNCATED',
        `the ${bytes.length}-byte file ends inside its optional header; missing header bytes are read as zero, as the loader maps them`,
        bytes.length,
      );
    }
  }
  if ('code' in headers) return { ok: false, error: headers };
  const fh = headers.fileHeader;
  const sections = parseSectionTable(view, headers.sectionTableOffset, fh.numberOfSections, log, {
    pointer: fh.pointerToSymbolTable,
    count: fh.numberOfSymbols,
  });
  if (sections.length === 0) log.add('NO_SECTIONS', 'the image has no readable section headers');
  return { ok: true, image: new PeImage(view, headers, sections, log) };
}

export { ByteView, hex } from './bytes.js';
export * from './constants.js';
export type { BaseRelocation, BaseRelocations, RelocationBlock } from './base-relocations.js';
export type { CodeViewInfo, DebugInfo } from './debug-directory.js';
export type { DataRange, DataRanges } from './data-ranges.js';
export type { RuntimeFunction } from './exception-table.js';
export type { ExportedSymbol, Exports } from './exports.js';
export type { DataDirectory, FileHeader, OptionalHeader } from './headers.js';
export type { ImportedFunction, ImportedModule } from './imports.js';
export type { PeIssue, PeIssueCode } from './issues.js';
export type { LoadConfig } from './load-config.js';
export type { VersionInfo } from './version-resource.js';
export { authenticodeLayout, type AuthenticodeLayout, PAGE_SIZE } from './authenticode.js';
export { PeImage, type SecurityDirectory } from './image.js';
export {
  containsRva,
  displayName,
  isExecutable,
  isReadable,
  isWritable,
  rights,
  type Section,
  virtualExtent,
} from './sections.js';
