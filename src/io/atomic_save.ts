/// <reference types="node" />
// (The build type-checks with no ambient types; this file alone needs Node's.)
/**
 * Saving a model into a folder so that, at every instant, the folder holds
 * either its previous model or the new one, complete: a process killed at any
 * point, a full disk or a file-size limit leaves the previous model loadable,
 * and two saves into one folder at once leave one of the two, whole.
 *
 * The layout: `model.json` lists one weights file under a name used once,
 * `weights.<16 hex digits>.bin`. A save
 *
 * 1. creates `.model.json.<id>.tmp` (exclusively: it never follows or reuses a
 *    file), which marks the save as in progress;
 * 2. writes the weights to the new `weights.<id>.bin` (exclusively too) and
 *    fsyncs it;
 * 3. writes the model.json text into `.model.json.<id>.tmp`, fsyncs it and the
 *    folder;
 * 4. renames `.model.json.<id>.tmp` to `model.json`: the one step that switches
 *    from the previous model to the new one (a rename replaces a symlink named
 *    model.json rather than writing through it), then fsyncs the folder;
 * 5. deletes what no model.json lists any more: the regular files directly in
 *    the folder that the replaced model.json listed (an older `weights.bin`,
 *    converter shards), and `weights.<id>.bin` files that neither the current
 *    model.json lists nor a save in progress owns.
 *
 * On an error in steps 1-4, the new files are removed and the previous model
 * is untouched. No save ever writes a file that a model.json lists, so no
 * model.json can be paired with weights of another save; the last rename wins.
 *
 * Step 5 never deletes the files of a save in progress or of the current model:
 * a `weights.<id>.bin` is deleted only when its `.model.json.<id>.tmp` is gone
 * (its save was committed or abandoned) and the model.json read after that
 * check does not list it (a committed save that was replaced can never be
 * listed again). A save killed before step 4 leaves its two files; they are
 * deleted by a later save once neither has changed for {@link STALE_AFTER_MS}
 * (the marker first: a save that was only paused that long then fails at its
 * rename instead of committing a model.json whose weights are gone).
 */
import {randomBytes} from 'node:crypto';
import {lstat, mkdir, open, readdir, realpath, rename, unlink} from 'node:fs/promises';
import type {FileHandle} from 'node:fs/promises';
import * as path from 'node:path';

import {MODEL_FILE} from './model_json';
import {errorCode, readFolderFile, resolveInFolder} from './folder_files';

/** How long the files of an unfinished save stay untouched before a later save deletes them (1 hour). */
export const STALE_AFTER_MS = 60 * 60 * 1000;

/** The largest model.json read (256 MiB): a topology and manifest are far smaller. */
export const MODEL_JSON_MAX_BYTES = 256 * 1024 * 1024;

const WEIGHTS_NAME = /^weights\.([0-9a-f]{16})\.bin$/;
const MARKER_NAME = /^\.model\.json\.([0-9a-f]{16})\.tmp$/;

const weightsName = (id: string) => `weights.${id}.bin`;
const markerName = (id: string) => `.model.json.${id}.tmp`;

/** A fresh save id: 16 hex digits. */
export function newSaveId(): string {
  return randomBytes(8).toString('hex');
}

/** The weights file name of the save `id`, as model.json lists it. */
export function weightsFileName(id: string): string {
  return weightsName(id);
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.byteLength) {
    const {bytesWritten} = await handle.write(data, at, data.byteLength - at, at);
    at += bytesWritten;
  }
}

/** fsync of a directory, where the platform supports it (not on Windows). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'].includes(errorCode(e) ?? '')) throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * The names of the files directly in `realDir` that its model.json lists, or null
 * when model.json is missing, not a regular file in the folder, too large or not a
 * model.json (then nothing is deleted on its account).
 */
async function listedNames(realDir: string): Promise<Set<string> | null> {
  try {
    const file = await resolveInFolder(path.join(realDir, MODEL_FILE), realDir);
    if (file.kind !== 'file' || file.size > MODEL_JSON_MAX_BYTES) return null;
    const bytes = new Uint8Array(file.size);
    await readFolderFile(file, bytes);
    const json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    const manifest: unknown = json?.weightsManifest;
    if (!Array.isArray(manifest)) return null;
    const names = new Set<string>();
    for (const group of manifest) {
      if (!Array.isArray(group?.paths)) return null;
      for (const p of group.paths) {
        if (typeof p !== 'string') return null;
        const name = path.normalize(p);
        if (name !== '.' && name !== '..' && !name.includes(path.sep) && !name.includes('/')) names.add(name);
      }
    }
    return names;
  } catch {
    return null;
  }
}

async function removeQuietly(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch {
    return false;
  }
}

/** The mtime of a regular file; null for anything else, `'missing'` when nothing has that name. */
async function regularFileMtime(file: string): Promise<number | null | 'missing'> {
  try {
    const stats = await lstat(file);
    return stats.isFile() ? stats.mtimeMs : null;
  } catch (e) {
    return errorCode(e) === 'ENOENT' ? 'missing' : null;
  }
}

/**
 * Step 5 of a save (see the module comment): deletes the regular files directly in
 * `realDir` that `replaced` names and the current model.json does not list, the
 * `weights.<id>.bin` files no model.json lists and no save in progress owns, and the
 * files of saves abandoned {@link STALE_AFTER_MS} ago. Best effort: errors are ignored.
 *
 * @param replaced The names the replaced model.json listed (null: unknown).
 */
async function removeUnlisted(realDir: string, replaced: ReadonlySet<string> | null): Promise<void> {
  const now = Date.now();
  let entries: string[];
  try {
    entries = await readdir(realDir);
  } catch {
    return;
  }
  const stale = (mtime: number) => now - mtime > STALE_AFTER_MS;
  const unowned: string[] = [];
  const owned = new Set<string>();
  for (const name of entries) {
    const id = WEIGHTS_NAME.exec(name)?.[1];
    if (id === undefined) continue;
    const weightsMtime = await regularFileMtime(path.join(realDir, name));
    if (typeof weightsMtime !== 'number') continue;
    const marker = path.join(realDir, markerName(id));
    const markerMtime = await regularFileMtime(marker);
    if (markerMtime === 'missing') {
      unowned.push(name); // its save was committed (maybe replaced since) or abandoned
    } else {
      owned.add(id);
      if (markerMtime === null) continue; // not a file this package writes: left alone
      // The marker first: if it is gone already, its save has just committed and owns the file.
      if (stale(Math.max(markerMtime, weightsMtime)) && await removeQuietly(marker)) {
        await removeQuietly(path.join(realDir, name));
      }
    }
  }
  for (const name of entries) {
    const id = MARKER_NAME.exec(name)?.[1];
    if (id === undefined || owned.has(id)) continue;
    const mtime = await regularFileMtime(path.join(realDir, name));
    if (typeof mtime === 'number' && stale(mtime)) await removeQuietly(path.join(realDir, name));
  }
  // Read after the markers were checked: a file whose marker was gone then is listed now or never again.
  const listed = await listedNames(realDir);
  if (listed === null) return;
  // Of the replaced model.json's names, the marker rule above judges weights.<id>.bin; model.json and
  // markers are never the previous model's weights, whatever a (hostile) manifest lists.
  const previous = [...(replaced ?? [])].filter((name) =>
    name !== MODEL_FILE && !WEIGHTS_NAME.test(name) && !MARKER_NAME.test(name));
  for (const name of new Set([...unowned, ...previous])) {
    if (listed.has(name)) continue;
    const file = path.join(realDir, name);
    if (typeof await regularFileMtime(file) === 'number') await removeQuietly(file);
  }
}

/**
 * Saves into `dir` (created with its parents when missing) as the module comment
 * describes: the weights `chunks`, in order, into a new `weights.<id>.bin`, and
 * `modelJSON` (which must list `weightsFileName(id)`) as model.json, last.
 *
 * @throws Whatever the file system throws (ENOSPC, EFBIG, EACCES...), after removing
 *     the new files; the folder's previous model is then untouched.
 */
export async function saveAtomically(dir: string, id: string, chunks: readonly Uint8Array[], modelJSON: Uint8Array):
    Promise<void> {
  await mkdir(dir, {recursive: true});
  const realDir = await realpath(dir);
  const marker = path.join(realDir, markerName(id));
  const weights = path.join(realDir, weightsName(id));
  const created: string[] = [];
  let markerHandle: FileHandle | undefined;
  let weightsHandle: FileHandle | undefined;
  let replaced: Set<string> | null;
  try {
    markerHandle = await open(marker, 'wx');
    created.push(marker);
    weightsHandle = await open(weights, 'wx');
    created.unshift(weights); // removed before the marker, which protects it
    let at = 0;
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) {
        const {bytesWritten} = await weightsHandle.write(chunk, written, chunk.byteLength - written, at);
        written += bytesWritten;
        at += bytesWritten;
      }
    }
    await weightsHandle.sync();
    await weightsHandle.close();
    weightsHandle = undefined;
    await writeAll(markerHandle, modelJSON);
    await markerHandle.sync();
    await markerHandle.close();
    markerHandle = undefined;
    await syncDirectory(realDir);
    replaced = await listedNames(realDir);
    await rename(marker, path.join(realDir, MODEL_FILE));
  } catch (e) {
    await weightsHandle?.close().catch(() => undefined);
    await markerHandle?.close().catch(() => undefined);
    for (const file of created) await removeQuietly(file);
    throw e;
  }
  // Committed: what follows cannot undo the save, so its errors are ignored.
  await syncDirectory(realDir).catch(() => undefined);
  await removeUnlisted(realDir, replaced);
}
