import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorFileReport, type FileReport } from '../report/model.js';
import type { GithubOptions } from '../report/github.js';
import type { ReportWriter } from '../report/writer.js';
import { SCAN_ROOT_ID, type SarifLocation, type SarifOptions } from '../report/sarif.js';

/**
 * SARIF locations: a file under the scan root (default: the current directory, where CI
 * runs from the checkout) gets a relative URI against SCANROOT, which is what GitHub code
 * scanning needs to place the alert; anything else gets an absolute file: URI.
 */
export function sarifPaths(root: string): Required<Pick<SarifOptions, 'locate' | 'rootUri' | 'locateSource'>> {
  const absRoot = resolve(root);
  const rootUri = pathToFileURL(absRoot).href.replace(/\/?$/, '/');
  const locate = (path: string): SarifLocation => {
    const abs = resolve(path);
    const rel = relative(absRoot, abs);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) {
      return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: SCAN_ROOT_ID };
    }
    return { uri: pathToFileURL(abs).href };
  };
  // A source file from the PDB counts only when it is here (a build machine's D:\a\… is not).
  const locateSource = (file: string): SarifLocation | undefined => (existsSync(resolve(file)) ? locate(file) : undefined);
  return { locate, rootUri, locateSource };
}

/** --format github: paths relative to the scan root (the checkout), as annotations need them. */
export function githubPaths(root: string): Required<GithubOptions> {
  const absRoot = resolve(root);
  const relativePath = (path: string): string => {
    const rel = relative(absRoot, resolve(path));
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : resolve(path);
  };
  const sourceFile = (file: string): string | undefined => (existsSync(resolve(file)) ? relativePath(file) : undefined);
  return { relativePath, sourceFile };
}

/** A problem with -o found before scanning: exit 2, nothing scanned, nothing written. */
export class OutputPathError extends Error {}

/**
 * Checks -o before the scan: the directory exists, the path is not a directory, and the
 * report would not replace an input (same device and inode) or any PE image.
 */
export async function checkOutputPath(output: string, inputs: readonly string[]): Promise<void> {
  const dir = dirname(resolve(output));
  let dirInfo;
  try {
    dirInfo = await stat(dir);
  } catch {
    throw new OutputPathError(`cannot write the report to ${output}: directory ${dir} does not exist`);
  }
  if (!dirInfo.isDirectory()) throw new OutputPathError(`cannot write the report to ${output}: ${dir} is not a directory`);
  let info;
  try {
    info = await stat(output);
  } catch {
    return; // a new file
  }
  if (info.isDirectory()) throw new OutputPathError(`cannot write the report to ${output}: it is a directory`);
  for (const input of inputs) {
    const other = await stat(input).catch(() => undefined);
    if (other && other.dev === info.dev && other.ino === info.ino) {
      throw new OutputPathError(`refusing to write the report over an input: ${output} is ${input}`);
    }
  }
  if (info.isFile() && (await startsWithMz(output))) {
    throw new OutputPathError(`refusing to write the report over ${output}: it is a PE image (a driver?), not an old report`);
  }
}

async function startsWithMz(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const buf = new Uint8Array(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x4d && buf[1] === 0x5a;
  } finally {
    await handle.close();
  }
}

/** Where a streamed report goes: stdout, or a file written aside and renamed into place at the end. */
export interface ReportSink {
  write(text: string): Promise<void>;
  /** Finishes the report (the rename, for a file). */
  close(): Promise<void>;
  /** Drops a half-written report file. */
  abort(): Promise<void>;
}

export function stdoutSink(): ReportSink {
  return {
    write: async (text) => {
      if (text.length > 0 && !process.stdout.write(text)) await once(process.stdout, 'drain');
    },
    close: async () => undefined,
    abort: async () => undefined,
  };
}

/** Characters of report text gathered before a write to the temp file. */
const FILE_WRITE_BATCH = 256 * 1024;

/**
 * A report file: written beside its destination and renamed into place by close(), so a
 * failed or interrupted scan never leaves half a report (or destroys the previous one). A
 * device or pipe (-o /dev/stdout) is written directly; a symlink is followed, not replaced.
 */
export async function fileSink(output: string): Promise<ReportSink> {
  const existing = await stat(output).catch(() => undefined);
  if (existing && !existing.isFile()) {
    const handle = await open(output, 'w');
    return {
      write: async (text) => void (await handle.write(text)),
      close: () => handle.close(),
      abort: () => handle.close(),
    };
  }
  const target = existing ? await realpath(output) : resolve(output);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const handle = await open(temp, 'wx');
  let closed = false;
  const closeHandle = async () => {
    if (!closed) {
      closed = true;
      await handle.close();
    }
  };
  // The temp file is read by nobody before the rename: reports are gathered into writes of
  // about a quarter of a MiB instead of one write (a thread-pool trip) per file.
  let parts: string[] = [];
  let buffered = 0;
  const flush = async () => {
    if (parts.length === 0) return;
    const text = parts.join('');
    parts = [];
    buffered = 0;
    await handle.write(text);
  };
  return {
    write: async (text) => {
      parts.push(text);
      buffered += text.length;
      if (buffered >= FILE_WRITE_BATCH) await flush();
    },
    close: async () => {
      await flush();
      await closeHandle();
      await rename(temp, target);
    },
    abort: async () => {
      await closeHandle().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
    },
  };
}

/**
 * One file's part of the report; if rendering it fails, that file is reported as an error
 * instead, so one odd file never costs the reports of the others.
 */
export function renderFileSafely(writer: ReportWriter, file: FileReport): { text: string; file: FileReport } {
  try {
    return { text: writer.file(file), file };
  } catch (e) {
    const failed = errorFileReport({ path: file.path, sha256: file.sha256, size: file.size }, 'RENDER_FAILED', `the report for this file could not be rendered: ${e instanceof Error ? e.message : String(e)}`, file);
    return { text: writer.file(failed), file: failed };
  }
}
