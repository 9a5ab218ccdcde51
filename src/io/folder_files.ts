/// <reference types="node" />
// (The build type-checks with no ambient types; this file alone needs Node's.)
/**
 * Reading a file that a model folder lists, and nothing else: the file's real
 * path (symlinks resolved) must lie inside the folder's real path and be a
 * regular file, checked with `realpath` and `stat` before anything is opened
 * (a FIFO would block `open`, `/dev/zero` would never end), and a read takes
 * exactly the size `stat` gave, checked again on the open file.
 */
import {constants} from 'node:fs';
import {open, realpath, stat} from 'node:fs/promises';
import * as path from 'node:path';

/** Where a listed path leads. */
export type FolderFile =
  | {kind: 'file'; real: string; size: number; dev: number; ino: number}
  | {kind: 'missing'}
  | {kind: 'outside'; real: string}
  | {kind: 'not a regular file'; real: string; what: string};

/** The error code of a Node file-system error (`'ENOENT'`, ...), or undefined. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as {code?: unknown} | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `real` lies strictly inside the directory `realDir` (both real paths). */
export function isInside(realDir: string, real: string): boolean {
  const relative = path.relative(realDir, real);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function describeKind(stats: {isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean;
    isBlockDevice(): boolean; isSocket(): boolean}): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Resolves `target` (a path inside `realDir`, which must be a real path) without
 * opening it: its real path, whether that lies inside `realDir`, and whether it is a
 * regular file (with its size and identity).
 */
export async function resolveInFolder(target: string, realDir: string): Promise<FolderFile> {
  let real: string;
  try {
    real = await realpath(target);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return {kind: 'missing'};
    throw e;
  }
  if (!isInside(realDir, real)) return {kind: 'outside', real};
  let stats: Awaited<ReturnType<typeof stat>>;
  try {
    stats = await stat(real);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return {kind: 'missing'}; // deleted since realpath saw it
    throw e;
  }
  if (!stats.isFile()) return {kind: 'not a regular file', real, what: describeKind(stats)};
  return {kind: 'file', real, size: stats.size, dev: stats.dev, ino: stats.ino};
}

/** Thrown by {@link readFolderFile} when the file is no longer the one `resolveInFolder` saw. */
export class FileChangedError extends Error {
  constructor(how: string) {
    super(how);
    this.name = 'FileChangedError';
  }
}

// O_NONBLOCK: opening a FIFO swapped in after the stat returns at once instead of waiting for a
// writer. O_NOFOLLOW: a symlink swapped in for the real path is refused. (Windows has neither.)
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Reads the regular file `file` (from {@link resolveInFolder}) into `into`, which must
 * be `file.size` bytes long: never more than that, and only when the open file is still
 * that file with that size.
 *
 * @throws FileChangedError when the file was replaced, grew or shrank since it was resolved.
 */
export async function readFolderFile(file: {real: string; size: number; dev: number; ino: number},
    into: Uint8Array): Promise<void> {
  const handle = await open(file.real, READ_FLAGS);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.dev !== file.dev || stats.ino !== file.ino) {
      throw new FileChangedError('it was replaced while it was being opened');
    }
    if (stats.size !== file.size) throw new FileChangedError(`its size changed from ${file.size} to ${stats.size} bytes`);
    let at = 0;
    while (at < file.size) {
      const {bytesRead} = await handle.read(into, at, file.size - at, at);
      if (bytesRead === 0) throw new FileChangedError(`it ended after ${at} of ${file.size} bytes`);
      at += bytesRead;
    }
    const {bytesRead} = await handle.read(new Uint8Array(1), 0, 1, file.size);
    if (bytesRead > 0) throw new FileChangedError(`it grew beyond ${file.size} bytes while being read`);
  } finally {
    await handle.close();
  }
}
