/**
 * Find what etcd wrote under a path: a data dir, a member dir, a WAL dir, or a single .wal,
 * .snap or bbolt file. Lists names and sizes only; decoding is inspect/'s job.
 */
import { closeSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { NotEtcdError, fsError } from '../errors.js';
import { parseSnapDbName, parseSnapName, parseWalName } from '../format/wal/names.js';

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
}

const BOLT_MAGIC = 0xed0cdaed;

export function locate(path: string, opts: { walDir?: string } = {}): Layout {
  const root = resolve(path);
  const st = statOrThrow(root);
  if (st.isFile()) return locateFile(root, st);
  if (!st.isDirectory()) throw new NotEtcdError(`${root}: neither a file nor a directory`);

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

  const layout: Layout = { kind, root, walDir: undefined, snapDir: undefined, segments: [], snapFiles: [], db: undefined, files: [] };
  const add = (abs: string, role: FileRole, s: Stats) =>
    layout.files.push({ path: abs.slice(root.length + 1) || basename(abs), role, size: s.size, isDir: s.isDirectory() });

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
      if (s.isFile() && parseWalName(n)) {
        role = 'segment';
        layout.segments.push(abs);
      } else if (n.endsWith('.tmp')) role = 'wal-tmp';
      else if (n.endsWith('.broken')) role = 'wal-broken';
      add(abs, role, s);
    }
  }
  if (layout.snapDir !== undefined) {
    for (const n of readDir(layout.snapDir)) {
      const abs = join(layout.snapDir, n);
      const s = statOrThrow(abs);
      let role: FileRole = 'unknown';
      if (n === 'db') {
        role = 'db';
        layout.db = abs;
      } else if (parseSnapName(n)) {
        role = 'snap';
        layout.snapFiles.push(abs);
      } else if (n.endsWith('.snap.broken')) role = 'snap-broken';
      else if (parseSnapDbName(n) !== undefined) role = 'snap-db';
      else if (n.startsWith('db.tmp')) role = 'db-tmp';
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
  const base: Layout = { kind: 'wal-file', root: abs, walDir: undefined, snapDir: undefined, segments: [], snapFiles: [], db: undefined, files: [] };
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
  let fd: number | undefined;
  try {
    fd = openSync(abs, 'r');
    const n = readSync(fd, buf, 0, 24, 0);
    return n === 24 && buf.readUInt32LE(16) === BOLT_MAGIC;
  } catch (e) {
    throw fsError(e, abs, 'reading the file header');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function statOrThrow(p: string): Stats {
  try {
    return statSync(p);
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
