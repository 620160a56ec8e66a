/**
 * Where an output may go: never inside the data dir it was read from (etcd warns about, or
 * trips over, entries it does not know; a rebuild into its own source destroys what it reads).
 * Containment is decided on real paths: symlinks are resolved for the part of the path that
 * exists, so `--out link-to-datadir/new` is caught like `--out datadir/new`.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError, fsError } from '../errors.js';

/** True when `child` is `parent` or below it (both absolute, compared as given). */
export function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || !(r === '..' || r.startsWith('..' + sep) || isAbsolute(r));
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended. */
export function realish(p: string): string {
  const rest: string[] = [];
  let d = resolve(p);
  for (;;) {
    try {
      return join(realpathSync(d), ...rest.reverse());
    } catch {
      const up = dirname(d);
      if (up === d) return resolve(p);
      rest.push(basename(d));
      d = up;
    }
  }
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/**
 * The etcd data dir `p` is, or lies in (real path): the parent of the last `member` component
 * when there is one (`/var/lib/etcd/member/wal/x.wal` → `/var/lib/etcd`), else `p` itself when it
 * holds a `member/` dir; undefined otherwise (a snapshot file somewhere, a WAL dir of its own).
 */
export function enclosingDataDir(p: string): string | undefined {
  const real = realish(p);
  if (isDir(join(real, 'member'))) return real;
  const parts = real.split(sep);
  for (let i = parts.length - 1; i > 0; i--) {
    if (parts[i] !== 'member') continue;
    const member = parts.slice(0, i + 1).join(sep);
    if (isDir(member)) return parts.slice(0, i).join(sep) || sep;
  }
  return undefined;
}

/**
 * Throw a UsageError when `out` (given as `flag`) would be inside one of `sources` (dirs read from).
 * Both sides are compared as real paths.
 */
export function assertOutside(out: string, flag: string, sources: readonly (string | undefined)[]): void {
  const realOut = realish(out);
  for (const s of sources) {
    if (s === undefined) continue;
    const realSrc = realish(s);
    if (isInside(realOut, realSrc)) {
      throw new UsageError(`${flag} ${out} is inside ${realSrc}, which it reads from: write it outside the source data dir`);
    }
  }
}

/** UsageError when `p` exists (a symlink counts: it is not followed). */
export function assertNotExisting(p: string, flag: string, why: string): void {
  let st;
  try {
    st = lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    throw fsError(e, p, 'checking whether it exists');
  }
  if (st !== undefined) throw new UsageError(`${flag} ${p} already exists; ${why}`);
}

/** Whether `p` is a directory (following symlinks); false when it is anything else or cannot be read. */
export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
