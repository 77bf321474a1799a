import { hex } from './bytes.js';
import { DirectoryIndex } from './constants.js';
import type { PeImage } from './image.js';

/**
 * The file bytes an Authenticode PE image hash covers, as zero-copy views in hashing
 * order (Authenticode PE spec, "Calculating the PE Image Hash"): the headers up to
 * SizeOfHeaders without the CheckSum field and the Certificate Table directory entry,
 * then each section's raw data in file order, then anything after the last section up
 * to the certificate table (or the end of the file). The attribute certificates
 * themselves are never hashed, so the hash does not change when a file is re-signed,
 * timestamped or stripped of its signature.
 */
export interface AuthenticodeLayout {
  /** Views to feed to the hash, in order. */
  parts: Uint8Array[];
  /** The first-page variant the block rules call "Hash Page": headers without the two fields, zero-padded to a page. */
  firstPage: { parts: Uint8Array[]; zeroPadding: number };
  /** Why Windows would not find this layout well formed (it then hashes the flat file); empty when it is. */
  irregularities: string[];
}

/** Bounds for hostile section tables: bytes hashed (× file size), irregularities listed. */
const MAX_COVERAGE = 4;
const MAX_IRREGULARITIES = 16;

/** Page hashes cover 4 KiB pages. */
export const PAGE_SIZE = 0x1000;

export function authenticodeLayout(image: PeImage): AuthenticodeLayout {
  const view = image.view;
  const oh = image.optionalHeader;
  const irregularities: string[] = [];
  const checksumAt = oh.offset + 64;
  const certEntry = image.dataDirectories[DirectoryIndex.security];
  // Without a security entry (NumberOfRvaAndSizes < 5) there is nothing to skip but the checksum.
  const certEntryAt = certEntry?.entryOffset;
  const headerEnd = Math.min(oh.sizeOfHeaders, view.length);
  if (oh.sizeOfHeaders > view.length) irregularities.push(`SizeOfHeaders ${hex(oh.sizeOfHeaders)} runs past the end of the file`);

  const headerParts: Uint8Array[] = [];
  const skips = [[checksumAt, 4]];
  if (certEntryAt !== undefined) skips.push([certEntryAt, 8]);
  let at = 0;
  for (const [skipAt, skipSize] of skips as Array<[number, number]>) {
    if (skipAt >= headerEnd) break;
    headerParts.push(view.sliceClipped(at, skipAt - at));
    at = skipAt + skipSize;
  }
  if (at < headerEnd) headerParts.push(view.sliceClipped(at, headerEnd - at));

  const certStart =
    certEntry && certEntry.virtualAddress !== 0 && certEntry.size !== 0 && view.has(certEntry.virtualAddress, certEntry.size)
      ? certEntry.virtualAddress
      : view.length;
  const parts = [...headerParts];
  let hashedEnd = headerEnd;
  const sections = image.sections.filter((s) => s.sizeOfRawData !== 0).sort((a, b) => a.pointerToRawData - b.pointerToRawData);
  let covered = 0;
  for (const s of sections) {
    const data = view.sliceClipped(s.pointerToRawData, s.sizeOfRawData);
    // Overlapping sections (a hostile table of 65,535 of them) would hash the file over and
    // over: past a few times its size the layout is irregular anyway, so stop there.
    covered += data.length;
    if (covered > MAX_COVERAGE * view.length) {
      irregularities.push(`sections' raw data covers the file more than ${MAX_COVERAGE} times (overlapping sections); not hashed further`);
      break;
    }
    if (irregularities.length < MAX_IRREGULARITIES) {
      if (data.length < s.sizeOfRawData) irregularities.push(`section ${s.name} raw data runs past the end of the file`);
      if (s.pointerToRawData + data.length > certStart) irregularities.push(`section ${s.name} overlaps the certificate table`);
    }
    parts.push(data);
    hashedEnd = Math.max(hashedEnd, s.pointerToRawData + data.length);
  }
  if (hashedEnd < certStart) parts.push(view.sliceClipped(hashedEnd, certStart - hashedEnd));

  const padding = Math.max(0, PAGE_SIZE - headerEnd);
  if (headerEnd > PAGE_SIZE) irregularities.push(`headers (${hex(headerEnd)} bytes) are larger than a page`);
  return { parts, firstPage: { parts: headerParts, zeroPadding: padding }, irregularities };
}
