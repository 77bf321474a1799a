import { ByteView, hex } from './bytes.js';
import type { AddressSpace } from './address-space.js';
import { DirectoryIndex } from './constants.js';

/**
 * The facts of a VS_VERSIONINFO resource that people (and Microsoft's block rules) use
 * to name a driver. String values come from the first StringTable that has any; the
 * numeric versions come from VS_FIXEDFILEINFO, which is what Windows compares against
 * a policy's MinimumFileVersion / MaximumFileVersion.
 */
export interface VersionInfo {
  /** VS_FIXEDFILEINFO dwFileVersionMS/LS as "a.b.c.d". */
  fixedFileVersion?: string;
  /** VS_FIXEDFILEINFO dwProductVersionMS/LS as "a.b.c.d". */
  fixedProductVersion?: string;
  fileVersion?: string;
  productVersion?: string;
  companyName?: string;
  productName?: string;
  originalFilename?: string;
  internalName?: string;
  fileDescription?: string;
  /** The StringTable's key: language and code page, e.g. "040904B0". */
  stringTable?: string;
}

/** RT_VERSION, the resource type id of VS_VERSIONINFO. */
const RT_VERSION = 16;
const VS_FFI_SIGNATURE = 0xfeef04bd;
/** A resource directory entry whose OffsetToData has this bit points at another directory. */
const IMAGE_RESOURCE_DATA_IS_DIRECTORY = 0x80000000;
/** A version resource is a few KiB; refuse to walk more than this on the strength of a size field. */
const MAX_VERSION_RESOURCE = 0x10000;
/** Bounds the blocks walked at each level (StringFileInfo, StringTable, String). */
const MAX_CHILDREN = 256;

const STRING_KEYS: Record<string, keyof VersionInfo> = {
  FileVersion: 'fileVersion',
  ProductVersion: 'productVersion',
  CompanyName: 'companyName',
  ProductName: 'productName',
  OriginalFilename: 'originalFilename',
  InternalName: 'internalName',
  FileDescription: 'fileDescription',
};

/**
 * Finds the first RT_VERSION resource and reads it. Returns undefined when the image has
 * no version resource; a resource that is there but malformed gives an issue and whatever
 * could be read before the damage.
 */
export function parseVersionResource(space: AddressSpace): VersionInfo | undefined {
  const dir = space.directory(DirectoryIndex.resource);
  if (!dir) return undefined;
  const root = dir.virtualAddress;
  const fail = (what: string): undefined => {
    space.log.add('VERSION_RESOURCE_MALFORMED', `version resource: ${what}`, space.offsetOf(root, 1));
    return undefined;
  };
  // Type → name → language: take the RT_VERSION type, then the first entry at each level below.
  const typeEntry = findEntry(space, root, root, RT_VERSION);
  if (typeEntry === undefined) return undefined;
  if (typeEntry === null) return fail(`resource directory at RVA ${hex(root)} is cut off`);
  let entry = typeEntry;
  for (let level = 0; level < 2; level++) {
    if ((entry & IMAGE_RESOURCE_DATA_IS_DIRECTORY) === 0) return fail('a directory level is missing');
    const next = findEntry(space, root, root + (entry & ~IMAGE_RESOURCE_DATA_IS_DIRECTORY), undefined);
    if (next === undefined || next === null) return fail('an empty or cut-off directory below RT_VERSION');
    entry = next;
  }
  if ((entry & IMAGE_RESOURCE_DATA_IS_DIRECTORY) !== 0) return fail('too many directory levels below RT_VERSION');
  const dataEntry = root + entry;
  const dataRva = space.u32(dataEntry);
  const dataSize = space.u32(dataEntry + 4);
  if (dataRva === undefined || dataSize === undefined) return fail(`data entry at RVA ${hex(dataEntry)} is outside the image`);
  const bytes = space.bytesAt(dataRva, Math.min(dataSize, MAX_VERSION_RESOURCE));
  if (!bytes || bytes.length < 6) return fail(`data at RVA ${hex(dataRva)} (size ${hex(dataSize)}) is not in the file`);
  return readVersionInfo(new ByteView(bytes), fail);
}

/**
 * The OffsetToData of the entry with `id` (or of the first entry when id is undefined) in
 * the directory at `at`. Undefined when there is no such entry, null when the directory
 * itself cannot be read.
 */
function findEntry(space: AddressSpace, root: number, at: number, id: number | undefined): number | undefined | null {
  const named = space.u16(at + 12);
  const ids = space.u16(at + 14);
  if (named === undefined || ids === undefined || at < root) return null;
  const total = Math.min(named + ids, 4096);
  for (let i = 0; i < total; i++) {
    const e = at + 16 + i * 8;
    const name = space.u32(e);
    const offset = space.u32(e + 4);
    if (name === undefined || offset === undefined) return null;
    if (id === undefined) return offset;
    if ((name & 0x80000000) === 0 && name === id) return offset;
  }
  return undefined;
}

interface Block {
  key: string;
  /** wType: 1 text, 0 binary. */
  type: number;
  valueOffset: number;
  /** Value size in bytes. */
  valueSize: number;
  childrenOffset: number;
  end: number;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * One VS_VERSIONINFO-style block (wLength, wValueLength, wType, szKey, padding, Value,
 * padding, Children) at `at`, clipped to `limit`. Undefined when its header is unreadable.
 */
function readBlock(view: ByteView, at: number, limit: number): Block | undefined {
  const length = view.u16(at);
  const valueLength = view.u16(at + 2);
  const type = view.u16(at + 4);
  if (length === undefined || valueLength === undefined || type === undefined || length < 6) return undefined;
  const end = Math.min(at + length, limit, view.length);
  const key = utf16(view, at + 6, end);
  const valueOffset = align4(key.next);
  const valueSize = Math.min(type === 1 ? valueLength * 2 : valueLength, Math.max(0, end - valueOffset));
  return { key: key.text, type, valueOffset, valueSize, childrenOffset: align4(valueOffset + valueSize), end };
}

function* children(view: ByteView, parent: Block): Generator<Block> {
  let at = parent.childrenOffset;
  for (let n = 0; n < MAX_CHILDREN && at + 6 <= parent.end; n++) {
    const child = readBlock(view, at, parent.end);
    if (!child) return;
    yield child;
    const next = align4(child.end);
    if (next <= at) return;
    at = next;
  }
}

function readVersionInfo(view: ByteView, fail: (what: string) => undefined): VersionInfo | undefined {
  const top = readBlock(view, 0, view.length);
  if (!top || top.key !== 'VS_VERSION_INFO') return fail('the resource does not start with a VS_VERSION_INFO block');
  const info: VersionInfo = {};
  if (top.valueSize >= 52 && view.u32(top.valueOffset) === VS_FFI_SIGNATURE) {
    info.fixedFileVersion = fourPart(view.u32(top.valueOffset + 8) as number, view.u32(top.valueOffset + 12) as number);
    info.fixedProductVersion = fourPart(view.u32(top.valueOffset + 16) as number, view.u32(top.valueOffset + 20) as number);
  }
  for (const fileInfo of children(view, top)) {
    if (fileInfo.key !== 'StringFileInfo') continue;
    for (const table of children(view, fileInfo)) {
      let found = false;
      for (const s of children(view, table)) {
        const field = STRING_KEYS[s.key];
        if (!field || info[field] !== undefined) continue;
        const value = utf16(view, s.valueOffset, s.valueOffset + s.valueSize).text.trim();
        if (value) {
          info[field] = value;
          found = true;
        }
      }
      if (found) {
        info.stringTable = table.key;
        return info;
      }
    }
  }
  return info;
}

const fourPart = (ms: number, ls: number) => `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;

/**
 * A NUL-terminated UTF-16LE string in [at, limit). `next` is the offset after the
 * terminator (or `limit`). Control characters are shown as \uNNNN so a hostile resource
 * cannot write escape sequences into a terminal.
 */
function utf16(view: ByteView, at: number, limit: number): { text: string; next: number } {
  let text = '';
  let i = at;
  for (; i + 2 <= limit; i += 2) {
    const c = view.u16(i);
    if (c === undefined) break;
    if (c === 0) return { text, next: i + 2 };
    text += c < 0x20 || c === 0x7f ? `\\u${c.toString(16).padStart(4, '0')}` : String.fromCharCode(c);
  }
  return { text, next: Math.min(i, limit) };
}
