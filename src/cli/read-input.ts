/**
 * Reading one input, read-only and bounded (issue 16): regular files in chunks (a single
 * read of 2 GiB or more aborts Node) and synchronously (each asynchronous step is a trip
 * through libuv's thread pool and back; on 1,030 page-cached files the four trips per file
 * left the scan idle for about a millisecond a file), special files — a FIFO, `<(cat x.sys)`, a character
 * device — without blocking: opened non-blocking and read to EOF within the size limit and
 * an idle timeout, so a FIFO nobody writes to returns at once instead of hanging the scan.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/** Bytes asked of the OS per read (well under the 2 GiB a single read can take). */
const CHUNK = 16 * 1024 * 1024;
/** A special file that gives no data for this long is read as far as it got. */
export const SPECIAL_IDLE_TIMEOUT_MS = 5_000;

export class InputTooLarge extends Error {
  constructor(
    readonly size: number,
    limit: number,
    exact = true,
  ) {
    super(`file is ${exact ? '' : 'over '}${size} bytes, over the ${limit}-byte limit (raise it with --max-file-size)`);
  }
}

/** What kind of file system object `info` is, in words, when it is not a regular file or directory. */
export function specialKind(info: Stats): string | undefined {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return undefined;
}

/** Reads a whole input opened read-only, refusing more than `limit` bytes. */
export async function readInput(path: string, info: Stats, limit: number): Promise<Uint8Array> {
  if (info.isSocket()) throw new Error('is a socket, not a file');
  if (info.isFile()) return readRegular(path, limit);
  return readSpecial(path, limit);
}

function readRegular(path: string, limit: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > limit) throw new InputTooLarge(size, limit);
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const bytesRead = readSync(fd, buf, done, Math.min(CHUNK, size - done), done);
      if (bytesRead === 0) break; // the file shrank while we read it
      done += bytesRead;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

async function readSpecial(path: string, limit: number): Promise<Uint8Array> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return await drain(handle, limit);
  } finally {
    await handle.close();
  }
}

async function drain(handle: FileHandle, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let idleSince = Date.now();
  let wait = 1;
  for (;;) {
    const chunk = new Uint8Array(Math.min(1024 * 1024, limit + 1 - total));
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(chunk, 0, chunk.length, null));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      if (Date.now() - idleSince > SPECIAL_IDLE_TIMEOUT_MS) {
        throw new Error(`no data for ${SPECIAL_IDLE_TIMEOUT_MS / 1000} s after ${total} bytes; stopped reading`);
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 50);
      continue;
    }
    if (bytesRead === 0) break;
    idleSince = Date.now();
    wait = 1;
    parts.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit) throw new InputTooLarge(limit, limit, false);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
