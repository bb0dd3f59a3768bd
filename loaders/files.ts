// Opening a file the user named (a config.json, a GGUF, an SSH key, known_hosts): only a regular file is read. A FIFO
// would block forever, a device would stream without end, a directory cannot be parsed: each is refused before
// reading. The file is opened non-blocking and checked on the open descriptor (fstat), so nothing can swap it between
// the check and the read; its size is bounded by the caller's limit.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { Stats } from "node:fs";
import { InputError, LIMITS, limitReason } from "../lib/calc/index.js";
import type { LimitName } from "../lib/calc/index.js";

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "FIFO (named pipe)";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  return "special file";
}

/** Opens `path` for reading if it is a regular file; returns the descriptor and size. `what` names it in errors. */
export function openRegularFile(path: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new InputError(`${path}: no such ${what}`);
    throw new InputError(`${path}: cannot open the ${what} (${code ?? (e as Error).message.split("\n")[0]})`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(`${path}: the ${what} must be a regular file, not a ${kindOf(st)}`);
  }
  return { fd, size: st.size };
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** The whole content of a regular file no larger than the named limit. */
export function readRegularFile(path: string, what: string, limit: LimitName): Buffer {
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size > LIMITS[limit].max) throw new InputError(`${path}: the ${what} is ${size} bytes, too large (${limitReason(limit)})`);
    return readAt(fd, 0, size);
  } finally {
    closeSync(fd);
  }
}
