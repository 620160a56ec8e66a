/**
 * Small file-tree operations for the repair's writer: what a set-aside covers, a file's size, and
 * removing a directory it emptied (fsyncing its parent so the removal is durable).
 */
import { lstatSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsError } from '../errors.js';
import { fsyncDir } from './atomic.js';

/** Files under a path, depth first (a set-aside may name a leftover directory such as wal.tmp/). */
export function filesUnder(root: string, rel: string): { files: string[]; dirs: string[] } {
  const abs = join(root, rel);
  let st;
  try {
    st = lstatSync(abs); // never into a symlinked dir: its files are not the data dir's
  } catch (e) {
    throw fsError(e, abs, 'reading what to set aside');
  }
  if (!st.isDirectory()) return { files: [rel], dirs: [] };
  const out = { files: [] as string[], dirs: [] as string[] };
  for (const n of readdirSync(abs).sort()) {
    const sub = filesUnder(root, join(rel, n));
    out.files.push(...sub.files);
    out.dirs.push(...sub.dirs);
  }
  out.dirs.push(rel);
  return out;
}

/** A file's size in bytes (lstat: a symlink is not followed). */
export function fileSize(path: string): number {
  try {
    return lstatSync(path).size;
  } catch (e) {
    throw fsError(e, path, 'reading its size');
  }
}

/** Remove an empty directory, then fsync its parent. */
export function removeEmptyDir(path: string): void {
  try {
    rmdirSync(path);
  } catch (e) {
    throw fsError(e, path, 'removing the emptied directory');
  }
  fsyncDir(dirname(path));
}
