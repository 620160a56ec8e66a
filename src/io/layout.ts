/**
 * Find what etcd wrote under a path: a data dir, a member dir, a WAL dir, or a single .wal,
 * .snap or bbolt file. Lists names and sizes only; decoding is inspect/'s job.
 *
 * Entries are lstat'ed, never stat'ed: a FIFO, socket, device, symlink, or a directory where etcd
 * keeps a file is listed with role `not-regular` (and in `notRegular`, saying what it is and what
 * etcd expects there) and is never handed on as a segment, .snap or db, so nothing ever opens it
 * for reading (open(2) on a FIFO blocks until a writer comes).
 */
import { closeSync, lstatSync, readSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DoctorError, NotEtcdError, fsError } from '../errors.js';
import { parseSnapDbName, parseSnapName, parseWalName } from '../format/wal/names.js';
import { fileKind, openRegularForRead } from './safe-open.js';

export type LayoutKind = 'data-dir' | 'member-dir' | 'wal-dir' | 'wal-file' | 'snap-file' | 'db-file';

export type FileRole =
  | 'segment'
  | 'wal-tmp'
  | 'wal-broken'
  | 'wal-tmp-dir'
  | 'wal-broken-dir'
  | 'snap'
  | 'snap-broken'
  | 'snap-db'
  | 'db'
  | 'db-tmp'
  | 'snap-tmp'
  | 'touch'
  | 'not-regular'
  | 'unknown';

export interface LayoutFile {
  /** Path relative to the layout root. */
  path: string;
  role: FileRole;
  size: number;
  isDir: boolean;
}

export interface Layout {
  kind: LayoutKind;
  /** Absolute path the user gave. */
  root: string;
  walDir: string | undefined;
  snapDir: string | undefined;
  /** Segment files in name order (absolute paths). */
  segments: string[];
  snapFiles: string[];
  db: string | undefined;
  files: LayoutFile[];
  /** Entries that are not what etcd keeps there (a FIFO named like a segment, a directory named db...): never read. */
  notRegular: NotRegularEntry[];
}

export interface NotRegularEntry {
  /** relative to the layout root, as in `files` */
  path: string;
  /** what it is: "a FIFO (named pipe)", "a socket", "a symbolic link", "a directory", ... */
  is: string;
  /** what etcd keeps under that name: "a WAL segment", "the bbolt db", ... */
  expected: string;
}

const BOLT_MAGIC = 0xed0cdaed;

export function locate(path: string, opts: { walDir?: string } = {}): Layout {
  const root = resolve(path);
  let st: Stats;
  try {
    st = statSync(root); // the path the user names may be a symlink to the dir; what is inside is lstat'ed
  } catch (e) {
    throw fsError(e, root, 'stat');
  }
  // One file named on the command line may be a symlink: read the file it names (never a link's target found inside a dir).
  if (st.isFile()) return locateFile(lstatSync(root).isSymbolicLink() ? realpathSync(root) : root, st);
  if (!st.isDirectory()) throw new NotEtcdError(`${root}: is ${fileKind(st)}, expected a data dir, a WAL segment, a .snap file or a bbolt db`);

  const names = readDir(root);
  let member: string | undefined;
  let kind: LayoutKind;
  if (names.includes('member')) {
    kind = 'data-dir';
    member = join(root, 'member');
  } else if (names.includes('wal') || names.includes('snap')) {
    kind = 'member-dir';
    member = root;
  } else if (names.some((n) => n.endsWith('.wal') || n.endsWith('.wal.broken'))) {
    kind = 'wal-dir';
  } else {
    throw new NotEtcdError(`${root}: not an etcd data dir (no member/, wal/, snap/ or *.wal inside)`);
  }

  const layout: Layout = { kind, root, walDir: undefined, snapDir: undefined, segments: [], snapFiles: [], db: undefined, files: [], notRegular: [] };
  const relOf = (abs: string) => abs.slice(root.length + 1) || basename(abs);
  const add = (abs: string, role: FileRole, s: Stats) => layout.files.push({ path: relOf(abs), role, size: s.size, isDir: s.isDirectory() });
  /** A name etcd uses for a regular file: true when it is one; else listed as not-regular. */
  const regular = (abs: string, s: Stats, expected: string): boolean => {
    if (s.isFile()) return true;
    layout.notRegular.push({ path: relOf(abs), is: fileKind(s), expected });
    add(abs, 'not-regular', s);
    return false;
  };

  if (kind === 'data-dir') {
    for (const n of names) {
      if (n === 'member') continue;
      const s = statOrThrow(join(root, n));
      add(join(root, n), n === '.touch' ? 'touch' : 'unknown', s);
    }
  }
  if (member !== undefined) {
    for (const n of readDir(member)) {
      if (n === 'wal' || n === 'snap') continue;
      const abs = join(member, n);
      const s = statOrThrow(abs);
      const role: FileRole =
        n === 'wal.tmp' ? 'wal-tmp-dir' : n.startsWith('wal.broken') ? 'wal-broken-dir' : n === '.touch' ? 'touch' : 'unknown';
      add(abs, role, s);
    }
    const walDir = opts.walDir !== undefined ? resolve(opts.walDir) : join(member, 'wal');
    if (existsDir(walDir)) layout.walDir = walDir;
    const snapDir = join(member, 'snap');
    if (existsDir(snapDir)) layout.snapDir = snapDir;
  } else {
    layout.walDir = root;
  }

  if (layout.walDir !== undefined) {
    for (const n of readDir(layout.walDir)) {
      const abs = join(layout.walDir, n);
      const s = statOrThrow(abs);
      let role: FileRole = 'unknown';
      if (parseWalName(n)) {
        if (!regular(abs, s, 'a WAL segment')) continue;
        role = 'segment';
        layout.segments.push(abs);
      } else if (n.endsWith('.tmp')) {
        if (!regular(abs, s, 'the preallocated next WAL segment')) continue;
        role = 'wal-tmp';
      } else if (n.endsWith('.broken')) role = 'wal-broken';
      add(abs, role, s);
    }
  }
  if (layout.snapDir !== undefined) {
    for (const n of readDir(layout.snapDir)) {
      const abs = join(layout.snapDir, n);
      const s = statOrThrow(abs);
      let role: FileRole = 'unknown';
      if (n === 'db') {
        if (!regular(abs, s, 'the bbolt db')) continue;
        role = 'db';
        layout.db = abs;
      } else if (parseSnapName(n)) {
        if (!regular(abs, s, 'a raft snapshot (.snap)')) continue;
        role = 'snap';
        layout.snapFiles.push(abs);
      } else if (n.endsWith('.snap.broken')) role = 'snap-broken';
      else if (parseSnapDbName(n) !== undefined) {
        if (!regular(abs, s, 'a received backend snapshot (.snap.db)')) continue;
        role = 'snap-db';
      } else if (n.startsWith('db.tmp')) role = 'db-tmp';
      else if (n.startsWith('tmp')) role = 'snap-tmp';
      add(abs, role, s);
    }
  }
  layout.segments.sort();
  layout.snapFiles.sort();
  layout.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return layout;
}

function locateFile(abs: string, st: Stats): Layout {
  const n = basename(abs);
  const base: Layout = { kind: 'wal-file', root: abs, walDir: undefined, snapDir: undefined, segments: [], snapFiles: [], db: undefined, files: [], notRegular: [] };
  const file: LayoutFile = { path: n, role: 'unknown', size: st.size, isDir: false };
  base.files.push(file);
  if (n.endsWith('.wal') || n.endsWith('.wal.broken') || n.endsWith('.tmp')) {
    file.role = n.endsWith('.wal') ? 'segment' : n.endsWith('.tmp') ? 'wal-tmp' : 'wal-broken';
    base.segments.push(abs);
    return base;
  }
  if (n.endsWith('.snap') || n.endsWith('.snap.broken')) {
    file.role = n.endsWith('.snap') ? 'snap' : 'snap-broken';
    base.kind = 'snap-file';
    base.snapFiles.push(abs);
    return base;
  }
  if (looksLikeBolt(abs)) {
    file.role = 'db';
    base.kind = 'db-file';
    base.db = abs;
    return base;
  }
  throw new NotEtcdError(
    `${abs}: not a file etcd writes (expected a *.wal segment, a *.snap file, or a bbolt db with magic 0xed0cdaed at byte 16)`,
  );
}

function looksLikeBolt(abs: string): boolean {
  const buf = Buffer.alloc(24);
  const { fd } = openRegularForRead(abs, 'reading the header of');
  try {
    const n = readSync(fd, buf, 0, 24, 0);
    return n === 24 && buf.readUInt32LE(16) === BOLT_MAGIC;
  } catch (e) {
    throw fsError(e, abs, 'reading the file header');
  } finally {
    closeSync(fd);
  }
}

/** lstat: an entry is what it is, never what a symlink points to. */
function statOrThrow(p: string): Stats {
  try {
    return lstatSync(p);
  } catch (e) {
    throw fsError(e, p, 'stat');
  }
}

function readDir(p: string): string[] {
  try {
    return readdirSync(p).sort();
  } catch (e) {
    throw fsError(e, p, 'listing the directory');
  }
}

function existsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * How many bytes of WAL segments and db the paths among `args` hold, for a caller deciding how to
 * run before it parses its arguments: each argument that names something `locate` accepts counts
 * (a flag's value that is not such a path is skipped). A rough measure: it only ever reads names.
 */
export function bytesNamed(args: readonly string[]): number {
  let total = 0;
  for (const a of args) {
    if (a.startsWith('-')) continue;
    let layout: Layout;
    try {
      layout = locate(a);
    } catch (e) {
      if (e instanceof DoctorError) continue; // not a data dir, a segment or a db (or unreadable): the command will say so
      throw e;
    }
    for (const f of layout.files) if (f.role === 'segment' || f.role === 'db' || f.role === 'snap-db') total += f.size;
  }
  return total;
}
