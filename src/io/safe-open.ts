/**
 * Opening files we read from a data dir without ever blocking or being led elsewhere.
 *
 * open(2) on a FIFO blocks until a writer appears (forever, in a crashed data dir), and a device
 * can block or never end. So every file is opened with O_NONBLOCK (no effect on a regular file's
 * reads) and O_NOFOLLOW (a symlink is reported, not followed), and then fstat'ed: only a regular
 * file is ever read. Checking with lstat first is not enough on its own — the name can be swapped
 * between the lstat and the open — so the fstat of the opened fd is what decides.
 */
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { IoError, fsError } from '../errors.js';

/** What a non-regular file is, in words: "a FIFO", "a directory", ... */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** The one-line error for a file that is not a regular file where one is expected. */
export function notRegularError(path: string, st: Stats, doing: string): IoError {
  return new IoError(`${path}: is ${fileKind(st)}, expected a regular file; not ${doing} it`);
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * Open `path` for reading only if it is a regular file (not a FIFO, socket, device, directory or
 * symlink): never blocks. Returns the fd and its fstat; the caller closes the fd.
 */
export function openRegularForRead(path: string, doing = 'reading'): { fd: number; st: Stats } {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new IoError(`${path}: is a symbolic link, expected a regular file; not following it`);
    throw fsError(e, path, `opening for ${doing}`);
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw fsError(e, path, 'reading its type');
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw notRegularError(path, st, doing);
  }
  return { fd, st };
}
