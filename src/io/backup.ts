/**
 * Backups before bytes change, and `undo`.
 *
 * A backup is a directory beside the data dir (never inside it: etcd warns about entries it does
 * not know) holding `manifest.json` and `files/<path>`, a byte-for-byte copy of every file the
 * repair will change, move or remove. Its life:
 *
 *   createBackup   makes `<dir>.tmp` with a manifest in state `building`
 *   saveOriginal   copies one file (streamed), re-reads the copy to check its sha256, fsyncs,
 *                  then records it in the manifest (rewritten atomically after every change)
 *   willCreate     records a file the repair will create (undo deletes it)
 *   commit         renames `<dir>.tmp` to `<dir>`, then marks the manifest `committed`.
 *                  Only after this may the first byte of the data dir change.
 *   markApplied    journals each applied step; finish() records that all were applied
 *
 * A crash before commit leaves a `building` backup and an untouched data dir: not a valid backup,
 * `undo` refuses it and `removeIncompleteBackups` deletes it. After commit, `undo` puts every file
 * back byte for byte, from any state a crash can leave, as often as it is run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  mkdirSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError, NotEtcdError, UsageError, fsError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import {
  copyRange,
  crashPoint,
  ensureDir,
  fsyncDir,
  removeStaleTemps,
  replaceVia,
  type ReplaceOptions,
  sha256File,
  writeAtomicAs,
} from './atomic.js';
import { isInside, realish } from './paths.js';
import { fileKind, openRegularForRead } from './safe-open.js';
import { assertFreeSpace } from './space.js';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_V1,
  BackupManifest,
  type BackupDirEntry,
  type SavedFileEntry,
  isDataRelPath,
} from './backup-manifest.js';

export { BACKUP_FORMAT, BACKUP_FORMAT_V1, BackupManifest, BackupFileEntry } from './backup-manifest.js';
export type { BackupDirEntry, SavedFileEntry } from './backup-manifest.js';

/** What the repair will do to a file that exists now (a file it moves away is `removed`: undo brings it back from the copy). */
export type FileChange = 'truncated' | 'rewritten' | 'removed';

export interface CreateBackupOptions {
  /** where to put the backup (must not exist); default `<parent>/<data dir name>.wal-doctor-backup-<UTC stamp>` */
  backupDir?: string;
  /** the repair plan, stored in the manifest; must survive JSON.stringify */
  plan: unknown;
  now?: Date;
  /**
   * Checked against the free space (statfs) before the first byte of the backup is written:
   * what the backup will hold, and what the repair will write in the data dir besides (its
   * largest temp file). A shortfall is an IoError naming the numbers; nothing is written.
   */
  space?: { backupBytes: number; dataDirBytes: number };
}

/** A backup being built, then committed, then journaling the repair. */
export interface Backup {
  /** absolute data dir */
  readonly dataDir: string;
  /** where the backup will be (and, after commit, is) */
  readonly dir: string;
  /** where it is right now: `<dir>.tmp` before commit, `dir` after */
  readonly currentDir: string;
  /** a copy of the manifest as last written */
  manifest(): BackupManifest;
  /** Copy a file the repair will change, move or remove, before commit. Idempotent for the same change. */
  saveOriginal(relPath: string, change: FileChange): SavedFileEntry;
  /** Record a file the repair will create (it must not exist yet), before commit. */
  willCreate(relPath: string): void;
  /** Record a directory the repair will remove (owner, mode, mtime: undo recreates it as it was), before commit. */
  saveDir(relPath: string): void;
  /** Make the backup valid. Call after the last saveOriginal/willCreate and before the first change. */
  commit(): void;
  /** Journal one applied step (after it is durable). */
  markApplied(step: string): void;
  /** Record that every step was applied. */
  finish(): void;
  /**
   * Before commit only: delete the unfinished backup (a failure while it was being written, e.g. a
   * full disk, must not leave a partial copy filling the disk). A no-op after commit.
   */
  abort(): void;
  /**
   * After commit, when no step was journaled yet and the first step failed: if every saved file
   * still holds its original bytes (and nothing the repair was to create exists), the backup saves
   * nothing, so it is deleted and true returned; otherwise it is kept (false). Never throws.
   */
  discardIfUnused(): boolean;
}

const MANIFEST = 'manifest.json';
const FILES = 'files';
const BACKUP_INFIX = '.wal-doctor-backup-';

/** `20261125T113701Z` */
export function backupStamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

function isoNow(): string {
  return new Date().toISOString();
}

function exists(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch (e) {
    throw fsError(e, p, 'checking whether it exists');
  }
}

function modeString(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

/** Permission bits only: set-id and sticky bits are never recorded as acceptable nor created. */
function parseMode(m: string): number | undefined {
  const n = parseInt(m, 8);
  return Number.isInteger(n) && (n & ~0o777) === 0 ? n : undefined;
}

function checkRelPath(relPath: string): void {
  if (!isDataRelPath(relPath)) {
    throw new Error(`backup: "${relPath}" is not a normalised path inside the data dir`);
  }
}

/**
 * True when `dir` is a backup that never got committed (a crash while it was being made): a
 * `building` manifest, or no manifest and nothing but our temp files. Such a dir is not a backup.
 */
export function isIncompleteBackup(dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  if (!names.includes(MANIFEST)) return names.every((n) => n.startsWith(`.${MANIFEST}.wal-doctor-tmp-`));
  try {
    const m = BackupManifest.safeParse(JSON.parse(readSmallRegular(join(dir, MANIFEST), 'reading the backup manifest')));
    return m.success && m.data.state === 'building';
  } catch {
    return false;
  }
}

/**
 * Delete the incomplete backups (see isIncompleteBackup) a crashed run left beside `dataDir`
 * under the default naming. Never touches a committed backup. Returns the dirs removed.
 */
export function removeIncompleteBackups(dataDir: string): string[] {
  const abs = resolve(dataDir);
  const parent = dirname(abs);
  const prefix = basename(abs) + BACKUP_INFIX;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch (e) {
    throw fsError(e, parent, 'listing');
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const p = join(parent, n);
    if (isIncompleteBackup(p)) {
      discardDir(p);
      removed.push(p);
    }
  }
  if (removed.length > 0) fsyncDir(parent);
  return removed;
}

function discardDir(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch (e) {
    throw fsError(e, p, 'removing an incomplete backup');
  }
}

/** Committed backups of `dataDir` in the default location, oldest first (names sort by time). */
export function listBackups(dataDir: string): { dir: string; manifest: BackupManifest }[] {
  const abs = resolve(dataDir);
  const parent = dirname(abs);
  const prefix = basename(abs) + BACKUP_INFIX;
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp')).sort();
  } catch (e) {
    throw fsError(e, parent, 'listing');
  }
  const out: { dir: string; manifest: BackupManifest }[] = [];
  for (const n of names) {
    try {
      const manifest = readBackupManifest(join(parent, n));
      if (manifest.state === 'committed') out.push({ dir: join(parent, n), manifest });
    } catch {
      // not ours, or damaged: undo on it explains why
    }
  }
  return out;
}

/** Read and validate `<dir>/manifest.json`; one-line errors for missing and corrupt. */
export function readBackupManifest(dir: string): BackupManifest {
  const p = join(dir, MANIFEST);
  if (!exists(p)) throw new UsageError(`${dir}: not a wal-doctor backup (no ${MANIFEST})`);
  const text = readSmallRegular(p, 'reading the backup manifest');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new IoError(`${p}: corrupt backup manifest (not JSON: ${(e as Error).message}); nothing was changed`);
  }
  const r = BackupManifest.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    const where = i ? i.path.join('.') || '(top)' : '?';
    throw new IoError(`${p}: corrupt backup manifest (${where}: ${i?.message ?? 'invalid'}); nothing was changed`);
  }
  return r.data;
}

/** A regular file's text (never through a symlink, never blocking on a FIFO), at most 64 MiB. */
function readSmallRegular(p: string, doing: string): string {
  const { fd, st } = openRegularForRead(p, doing);
  try {
    if (st.size > 64 << 20) throw new IoError(`${p}: ${st.size} bytes, too large for a backup manifest`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch (e) {
    throw e instanceof IoError ? e : fsError(e, p, doing);
  } finally {
    closeSync(fd);
  }
}

function writeManifest(dir: string, m: BackupManifest): void {
  writeAtomicAs(join(dir, MANIFEST), [Buffer.from(JSON.stringify(m, null, 2) + '\n')], 0o644, 'manifest');
}

/**
 * Start a backup of `dataDir`. Nothing in the data dir changes. Refuses a backup dir inside the
 * data dir or one that exists; an incomplete leftover at `<backupDir>.tmp` for the same data dir
 * is discarded.
 */
export function createBackup(dataDir: string, opts: CreateBackupOptions): Backup {
  const data = resolve(dataDir);
  try {
    if (!lstatSync(data).isDirectory()) throw new NotEtcdError(`${data}: not a directory`);
  } catch (e) {
    if (e instanceof NotEtcdError) throw e;
    throw fsError(e, data, 'opening the data dir');
  }
  const realData = realpathSync(data);
  let plan: unknown;
  try {
    plan = JSON.parse(JSON.stringify(opts.plan ?? null)) as unknown;
  } catch (e) {
    throw new Error(`createBackup: the plan is not serialisable as JSON: ${(e as Error).message}`);
  }
  const now = opts.now ?? new Date();

  let dir: string;
  if (opts.backupDir !== undefined) {
    dir = resolve(opts.backupDir);
    if (isInside(realish(dir), realData)) {
      throw new UsageError(`--backup-dir ${dir} is inside the data dir ${data}; etcd must not find it there`);
    }
    if (!exists(dirname(dir))) throw new UsageError(`--backup-dir ${dir}: its parent directory does not exist`);
    if (exists(dir)) throw new UsageError(`--backup-dir ${dir} already exists; name a new directory`);
    if (exists(dir + '.tmp')) {
      if (!isIncompleteBackup(dir + '.tmp')) throw new UsageError(`${dir}.tmp exists and is not an incomplete backup; remove it or choose another --backup-dir`);
      discardDir(dir + '.tmp');
    }
  } else {
    const base = join(dirname(data), basename(data) + BACKUP_INFIX + backupStamp(now));
    dir = base;
    for (let n = 2; exists(dir) || exists(dir + '.tmp'); n++) dir = `${base}-${n}`;
  }

  if (opts.space) {
    assertFreeSpace([
      { dir: dirname(dir), bytes: opts.space.backupBytes, what: 'the backup' },
      { dir: data, bytes: opts.space.dataDirBytes, what: "the repair's temp files" },
    ]);
  }

  const tmp = dir + '.tmp';
  ensureDir(tmp);
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    toolVersion: TOOL_VERSION,
    dataDir: realData, // the real path: undo works under it and refuses symlinks below it
    createdAt: now.toISOString(),
    state: 'building',
    committedAt: null,
    finishedAt: null,
    undoneAt: null,
    plan,
    files: [],
    dirs: [],
    applied: [],
  };
  try {
    writeManifest(tmp, manifest);
  } catch (e) {
    discardDir(tmp);
    throw e;
  }
  crashPoint('backup:dir-created');
  return new BackupSession(realData, dir, manifest);
}

class BackupSession implements Backup {
  private where: string;

  constructor(
    readonly dataDir: string,
    readonly dir: string,
    private readonly m: BackupManifest,
  ) {
    this.where = dir + '.tmp';
  }

  get currentDir(): string {
    return this.where;
  }

  manifest(): BackupManifest {
    return structuredClone(this.m);
  }

  private mustBeBuilding(what: string): void {
    if (this.m.state !== 'building') {
      throw new Error(`backup: ${what} after commit(); every original must be saved before the data dir changes`);
    }
  }

  /** Record the directories from the data dir down to `relDir` (once each), as they are now. */
  private recordDirs(relDir: string): void {
    const chain = ['.'];
    if (relDir !== '.' && relDir !== '') {
      const parts = relDir.split('/');
      for (let i = 1; i <= parts.length; i++) chain.push(parts.slice(0, i).join('/'));
    }
    for (const rel of chain) {
      if (this.m.dirs.some((d) => d.path === rel)) continue;
      const abs = rel === '.' ? this.dataDir : join(this.dataDir, rel);
      let st;
      try {
        st = lstatSync(abs, { bigint: true });
      } catch (e) {
        throw fsError(e, abs, 'reading its owner and mode');
      }
      if (!st.isDirectory()) throw new IoError(`${abs}: is not a directory (a symlink?); not backing up a path through it`);
      this.m.dirs.push({ path: rel, mode: modeString(Number(st.mode)), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: String(st.mtimeNs) });
    }
  }

  saveOriginal(relPath: string, action: FileChange): SavedFileEntry {
    checkRelPath(relPath);
    const known = this.m.files.find((f) => f.path === relPath);
    if (known) {
      if (known.action === action) return structuredClone(known as SavedFileEntry);
      throw new Error(`backup: ${relPath} is already recorded as ${known.action}, not ${action}`);
    }
    this.mustBeBuilding(`saveOriginal(${relPath})`);
    this.recordDirs(dirname(relPath));

    const src = join(this.dataDir, relPath);
    const copyRel = `${FILES}/${relPath}`;
    const dst = join(this.where, copyRel);
    ensureDir(dirname(dst));
    if (exists(dst)) removeOrThrow(dst); // a copy a crash left before it was recorded

    const { fd: srcFd } = openRegularForRead(src, 'backing up');
    let size: number;
    let meta: { mode: number; uid: number; gid: number; mtimeNs: string };
    const h = createHash('sha256');
    try {
      const st = fstatSync(srcFd, { bigint: true });
      size = Number(st.size);
      meta = { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: String(st.mtimeNs) };
      let dstFd: number;
      try {
        dstFd = openSync(dst, 'wx', 0o600);
      } catch (e) {
        throw fsError(e, dst, 'creating the backup copy');
      }
      try {
        copyRange(srcFd, src, dstFd, dst, size, 0, 0, (c) => h.update(c));
        fsyncSync(dstFd);
      } catch (e) {
        throw e instanceof Error && 'exitCode' in e ? e : fsError(e, dst, 'writing the backup copy');
      } finally {
        closeSync(dstFd);
      }
    } finally {
      closeSync(srcFd);
    }
    fsyncDir(dirname(dst));
    const sha256 = h.digest('hex');
    const check = sha256File(dst);
    if (check.sha256 !== sha256 || check.size !== size) {
      throw new IoError(`${dst}: the backup copy reads back as sha256 ${check.sha256} (${check.size} bytes), expected ${sha256} (${size} bytes)`);
    }
    crashPoint('backup:file-copied');

    const entry: SavedFileEntry = { action, path: relPath, size, sha256, mode: modeString(meta.mode), copy: copyRel, uid: meta.uid, gid: meta.gid, mtimeNs: meta.mtimeNs };
    this.m.files.push(entry);
    writeManifest(this.where, this.m);
    crashPoint('backup:file-recorded');
    return structuredClone(entry);
  }

  saveDir(relPath: string): void {
    checkRelPath(relPath);
    if (this.m.dirs.some((d) => d.path === relPath)) return;
    this.mustBeBuilding(`saveDir(${relPath})`);
    this.recordDirs(relPath);
    writeManifest(this.where, this.m);
  }

  willCreate(relPath: string): void {
    checkRelPath(relPath);
    const known = this.m.files.find((f) => f.path === relPath);
    if (known) {
      if (known.action === 'created') return;
      throw new Error(`backup: ${relPath} is already recorded as ${known.action}, not created`);
    }
    this.mustBeBuilding(`willCreate(${relPath})`);
    this.recordDirs(dirname(relPath));
    const p = join(this.dataDir, relPath);
    if (exists(p)) throw new IoError(`${p}: already exists; the repair was to create it (save it with saveOriginal instead)`);
    this.m.files.push({ action: 'created', path: relPath });
    writeManifest(this.where, this.m);
    crashPoint('backup:file-recorded');
  }

  commit(): void {
    this.mustBeBuilding('commit()');
    try {
      renameSync(this.where, this.dir);
    } catch (e) {
      throw fsError(e, this.dir, `renaming ${basename(this.where)} to it`);
    }
    this.where = this.dir;
    crashPoint('backup:renamed');
    fsyncDir(dirname(this.dir));
    // In memory only once on disk: if this write fails the backup is still `building` (abort() removes it).
    const committed: BackupManifest = { ...this.m, state: 'committed', committedAt: isoNow() };
    writeManifest(this.dir, committed);
    this.m.state = committed.state;
    this.m.committedAt = committed.committedAt;
    crashPoint('backup:committed');
  }

  markApplied(step: string): void {
    if (this.m.state !== 'committed') throw new Error(`backup: markApplied(${step}) before commit()`);
    this.m.applied.push({ step, at: isoNow() });
    writeManifest(this.dir, this.m);
    crashPoint('backup:step-recorded');
  }

  finish(): void {
    if (this.m.state !== 'committed') throw new Error('backup: finish() before commit()');
    this.m.finishedAt = isoNow();
    writeManifest(this.dir, this.m);
  }

  discardIfUnused(): boolean {
    if (this.m.state !== 'committed' || this.m.applied.length > 0) return false;
    try {
      for (const f of this.m.files) {
        const p = join(this.dataDir, f.path);
        const st = lstatSync(p, { throwIfNoEntry: false });
        if (f.action === 'created') {
          if (st !== undefined) return false;
          continue;
        }
        if (!st?.isFile() || st.size !== f.size || sha256File(p).sha256 !== f.sha256) return false;
      }
      discardDir(this.dir);
      fsyncDir(dirname(this.dir));
      return true;
    } catch {
      return false; // when in doubt, keep it
    }
  }

  abort(): void {
    if (this.m.state !== 'building') return;
    // Not a backup yet (the data dir is untouched): nothing in it is the only copy of anything.
    // commit() may have renamed it already and failed on the manifest: then it is at `dir`.
    discardDir(this.where);
    try {
      fsyncDir(dirname(this.where));
    } catch {
      // removed; the fsync only makes that durable
    }
  }
}

export interface UndoResult {
  /** files written back from the backup by this run */
  restored: string[];
  /** files the repair created, deleted by this run */
  removed: string[];
  /** saved files that already held their original bytes, owner and mode */
  unchanged: string[];
}

/** One line saying why undo refuses, always ending in "nothing was changed". */
function refuse(dir: string, what: string): IoError {
  return new IoError(`${dir}/${MANIFEST}: ${what}; refusing the whole undo, nothing was changed`);
}

const euid = (): number => (typeof process.geteuid === 'function' ? process.geteuid() : -1);

/**
 * The backup is only trusted if nobody but us (or root) could have written it: the dir and the
 * manifest owned by us or root, not writable by group or others, not symlinks (as sudo and sshd
 * judge their own files). Otherwise a user who can write there could make root's undo write
 * what they like.
 */
function assertTrusted(path: string, what: string, dir: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw fsError(e, path, `checking the ${what}`);
  }
  if (st.isSymbolicLink()) throw refuse(dir, `the ${what} ${path} is a symbolic link`);
  const me = euid();
  if (me >= 0 && st.uid !== me && st.uid !== 0) throw refuse(dir, `the ${what} is owned by uid ${st.uid}, not by you (uid ${me}) or root: someone else could have written it`);
  if ((st.mode & 0o022) !== 0) throw refuse(dir, `the ${what} is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${modeString(st.mode)}): someone else could have written it`);
}

/**
 * `rel` under `root`, checked component by component with lstat: every existing component below
 * `root` must be a real directory (never a symlink), the last one `last` (or absent, when
 * `mayBeMissing`). Returns the absolute path and the last component's lstat (undefined if absent).
 */
function walkUnder(root: string, rel: string, last: 'file' | 'dir', dir: string, mayBeMissing: boolean): { abs: string; st: ReturnType<typeof lstatSync> | undefined } {
  const parts = rel === '.' ? [] : rel.split('/');
  let abs = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '' || part === '.' || part === '..') throw refuse(dir, `${rel}: not a plain path under the data dir`);
    abs = join(abs, part);
    let st;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch (e) {
      throw fsError(e, abs, 'checking the path');
    }
    const isLast = i === parts.length - 1;
    if (st === undefined) {
      if (mayBeMissing) return { abs: join(abs, ...parts.slice(i + 1)), st: undefined };
      throw refuse(dir, `${abs}: missing`);
    }
    if (st.isSymbolicLink()) throw refuse(dir, `${abs} is a symbolic link: undo never follows one (it could lead out of ${root})`);
    if (!isLast || last === 'dir') {
      if (!st.isDirectory()) throw refuse(dir, `${abs} is ${fileKind(st)}, expected a directory`);
    } else if (!st.isFile()) {
      throw refuse(dir, `${abs} is ${fileKind(st)}, expected a regular file: move it away and run undo again`);
    }
    if (isLast) return { abs, st };
  }
  return { abs, st: lstatSync(abs) };
}

function checkMode(dir: string, where: string, mode: string): number {
  const n = parseMode(mode);
  if (n === undefined) throw refuse(dir, `${where}: mode ${mode} has set-id or sticky bits, which etcd never uses`);
  return n;
}

/** The data dir the manifest names, as a real path that looks like etcd's (else the undo is refused). */
function trustedDataDir(m: BackupManifest, dir: string): string {
  let real: string;
  try {
    real = realpathSync(m.dataDir);
  } catch (e) {
    throw fsError(e, m.dataDir, 'opening the data dir named in the backup manifest');
  }
  if (!lstatSync(real).isDirectory()) throw new NotEtcdError(`${real}: not a directory`);
  const isDir = (n: string) => lstatSync(join(real, n), { throwIfNoEntry: false })?.isDirectory() === true;
  if (!isDir('member') && !isDir('wal') && !isDir('snap')) {
    throw refuse(dir, `the data dir it names, ${m.dataDir}, holds no member/ (nor wal/ or snap/) directory: not an etcd data dir`);
  }
  return real;
}

interface Owner {
  uid: number;
  gid: number;
}

/**
 * The checks `undo` makes on the backup before it looks at any file: the backup dir and manifest
 * trusted (ours or root's, not writable by others, not symlinks), the manifest valid and committed,
 * the data dir it names an etcd data dir (its real path is returned). Callers that lock the data dir
 * before undo run this first, so a crafted manifest never makes them touch anything.
 */
export function undoTarget(backupDir: string): { dir: string; manifest: BackupManifest; dataDir: string } {
  const dir = resolve(backupDir);
  assertTrusted(dir, 'backup dir', dir);
  if (exists(join(dir, MANIFEST))) assertTrusted(join(dir, MANIFEST), 'manifest', dir);
  const m = readBackupManifest(dir);
  if (m.state !== 'committed') {
    throw new IoError(`${dir}: incomplete backup (the repair stopped before changing anything in ${m.dataDir}); nothing to undo — delete it`);
  }
  return { dir, manifest: m, dataDir: trustedDataDir(m, dir) };
}

/**
 * Put the data dir back as it was before the repair: every saved file byte for byte with its owner,
 * group, mode and mtime (atomically; sha256 checked on the backup copy before and on the written
 * file after), files the repair created deleted, removed directories recreated, and every directory
 * it changed given back its owner, group, mode and mtime.
 *
 * The manifest is checked before anything is written, and the whole undo refused (nothing changed)
 * if any check fails: the backup dir and manifest must be ours or root's and not group/other
 * writable; the data dir must be an etcd data dir; every path must stay under it with no symlink on
 * the way (lstat of each component); no mode may have set-id or sticky bits; every copy's sha256
 * must match. Idempotent; after a crash during undo, running it again finishes the job.
 */
export function undo(backupDir: string, opts: { beforeRename?: ReplaceOptions['beforeRename'] } = {}): UndoResult {
  const { dir, manifest: m, dataDir: data } = undoTarget(backupDir);
  const v1 = m.format === BACKUP_FORMAT_V1;

  // 1. verify everything before writing anything
  const seen = new Set<string>();
  const saved: SavedFileEntry[] = [];
  const created: string[] = [];
  for (const f of m.files) {
    if (seen.has(f.path)) throw refuse(dir, `${f.path} listed twice`);
    seen.add(f.path);
    if (f.action === 'created') {
      walkUnder(data, f.path, 'file', dir, true);
      created.push(f.path);
      continue;
    }
    checkMode(dir, f.path, f.mode);
    if (!v1 && (f.uid === undefined || f.gid === undefined || f.mtimeNs === undefined)) throw refuse(dir, `${f.path}: no owner, group or mtime recorded (format 2 records them)`);
    if (f.copy !== `${FILES}/${f.path}`) throw refuse(dir, `the copy of ${f.path} is ${f.copy}, expected ${FILES}/${f.path}`);
    walkUnder(data, f.path, 'file', dir, true);
    const copy = walkUnder(dir, f.copy, 'file', dir, true);
    if (copy.st === undefined) throw new IoError(`${copy.abs}: missing from the backup; nothing was changed`);
    const got = sha256File(copy.abs);
    if (got.sha256 !== f.sha256 || got.size !== f.size) {
      throw new IoError(
        `${copy.abs}: sha256 ${got.sha256} (${got.size} bytes) does not match the manifest's ${f.sha256} (${f.size} bytes); the backup is damaged, nothing was changed`,
      );
    }
    saved.push(f);
  }
  const dirSeen = new Set<string>();
  for (const d of m.dirs) {
    if (dirSeen.has(d.path)) throw refuse(dir, `directory ${d.path} listed twice`);
    dirSeen.add(d.path);
    checkMode(dir, `directory ${d.path}`, d.mode);
    walkUnder(data, d.path, 'dir', dir, true);
  }
  const dirMeta = new Map(m.dirs.map((d) => [d.path, d]));

  // 2. decide what each file needs (still nothing written)
  const toRestore: SavedFileEntry[] = [];
  const toRemove: string[] = [];
  const unchanged: string[] = [];
  const touchedDirs = new Set<string>();
  for (const rel of created) {
    touchedDirs.add(dirname(join(data, rel)));
    if (exists(join(data, rel))) toRemove.push(rel);
  }
  for (const f of saved) {
    const target = join(data, f.path);
    touchedDirs.add(dirname(target));
    const st = lstatSync(target, { throwIfNoEntry: false, bigint: true });
    const same =
      st !== undefined &&
      modeString(Number(st.mode)) === f.mode &&
      (f.uid === undefined || (Number(st.uid) === f.uid && Number(st.gid) === f.gid)) &&
      (f.mtimeNs === undefined || String(st.mtimeNs) === f.mtimeNs) &&
      Number(st.size) === f.size &&
      sha256File(target).sha256 === f.sha256;
    if (same) unchanged.push(f.path);
    else toRestore.push(f);
  }

  // 3. write: missing directories first (as they were), then files, then directories' metadata
  const restored: string[] = [];
  for (const f of toRestore) {
    createMissingDirs(data, dirname(f.path), dirMeta);
    restoreOne(dir, data, f, ownerFor(f, data), opts.beforeRename);
    restored.push(f.path);
    crashPoint('undo:file-restored');
  }
  for (const d of m.dirs) if (!exists(d.path === '.' ? data : join(data, d.path))) createMissingDirs(data, d.path, dirMeta);
  const removed: string[] = [];
  for (const rel of toRemove) {
    const p = walkUnder(data, rel, 'file', dir, true).abs;
    try {
      unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, p, 'removing');
    }
    fsyncDir(dirname(p));
    removed.push(rel);
    crashPoint('undo:file-removed');
  }
  for (const d of touchedDirs) removeStaleTemps(d);
  // deepest first: setting a directory's mtime is undone by any later change inside it
  for (const d of [...m.dirs].sort((a, b) => b.path.split('/').length - a.path.split('/').length || (a.path < b.path ? 1 : -1))) {
    restoreDirMeta(data, d);
  }

  m.undoneAt = isoNow();
  writeManifest(dir, m);
  return { restored, removed, unchanged };
}

/** Format 1 recorded no owner: a restored file then belongs to the owner of the directory it goes into (etcd's user, as a rule). */
function ownerFor(f: SavedFileEntry, data: string): Owner & { mtimeNs?: string } {
  if (f.uid !== undefined && f.gid !== undefined) return { uid: f.uid, gid: f.gid, ...(f.mtimeNs !== undefined ? { mtimeNs: f.mtimeNs } : {}) };
  let d = dirname(join(data, f.path));
  while (!exists(d) && d !== data) d = dirname(d);
  const st = lstatSync(d);
  return { uid: st.uid, gid: st.gid };
}

/** mkdir each missing directory from the data dir down to `rel`, with its recorded owner and mode (else 0700 and its parent's owner). */
function createMissingDirs(data: string, rel: string, meta: Map<string, BackupDirEntry>): void {
  if (rel === '.' || rel === '') return;
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const abs = join(data, sub);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st !== undefined) {
      if (!st.isDirectory() || st.isSymbolicLink()) throw new IoError(`${abs}: is ${fileKind(st)}, expected a directory; nothing more was changed`);
      continue;
    }
    const m = meta.get(sub);
    const parent = lstatSync(dirname(abs));
    const mode = m ? (parseMode(m.mode) ?? 0o700) : 0o700;
    try {
      mkdirSync(abs, { mode: 0o700 });
    } catch (e) {
      throw fsError(e, abs, 'recreating the directory');
    }
    withDirFd(abs, (fd) => {
      if (euid() === 0) fchownSync(fd, m?.uid ?? parent.uid, m?.gid ?? parent.gid);
      fchmodSync(fd, mode);
    });
    fsyncDir(dirname(abs));
  }
}

/** Open a directory without following a symlink and without blocking, for fchown/fchmod/fsync. */
function withDirFd<T>(abs: string, f: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(e, abs, 'opening the directory');
  }
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

function restoreDirMeta(data: string, d: BackupDirEntry): void {
  const abs = d.path === '.' ? data : join(data, d.path);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) return;
  withDirFd(abs, (fd) => {
    if (euid() === 0) fchownSync(fd, d.uid, d.gid);
    fchmodSync(fd, parseMode(d.mode) ?? 0o700);
    setMtimeNs(fd, d.mtimeNs);
  });
}

/**
 * Set the mtime of the open file `fd` to `ns` nanoseconds, exactly. Node's futimes goes through
 * libuv, which keeps microseconds only; GNU touch(1) sets nanoseconds, and given the fd as its
 * stdin (`/dev/stdin` is /proc/self/fd/0, which leads to this very inode, whatever its name now)
 * it touches the file we hold, not a name. Falls back to futimes (microseconds) without touch.
 */
function setMtimeNs(fd: number, ns: string): void {
  const n = BigInt(ns);
  const sec = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0');
  const r = spawnSync('touch', ['-c', '-m', '-d', `@${sec}.${frac}`, '/dev/stdin'], { stdio: [fd, 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  if (r.status === 0) return;
  const st = fstatSync(fd);
  futimesSync(fd, st.atime, Number(n / 1000n) / 1e6);
}

function removeOrThrow(p: string): void {
  try {
    unlinkSync(p);
  } catch (e) {
    throw fsError(e, p, 'removing');
  }
}

function restoreOne(backupDir: string, data: string, f: SavedFileEntry, owner: Owner & { mtimeNs?: string }, beforeRename: ReplaceOptions['beforeRename']): void {
  const target = join(data, f.path);
  const copy = join(backupDir, f.copy);
  const { fd: srcFd } = openRegularForRead(copy, 'restoring from');
  try {
    replaceVia(
      target,
      parseMode(f.mode) ?? 0o600,
      'restore',
      (fd, tmp) => {
        const h = createHash('sha256');
        copyRange(srcFd, copy, fd, tmp, f.size, 0, 0, (c) => h.update(c));
        const wrote = h.digest('hex');
        if (wrote !== f.sha256) throw new IoError(`${copy}: changed while restoring (sha256 ${wrote}, expected ${f.sha256}); ${target} left as it was`);
        fsyncSync(fd);
        const back = sha256File(tmp);
        if (back.sha256 !== f.sha256 || back.size !== f.size) {
          throw new IoError(`${tmp}: reads back as sha256 ${back.sha256} (${back.size} bytes), expected ${f.sha256}; ${target} left as it was`);
        }
        if (owner.mtimeNs !== undefined) setMtimeNs(fd, owner.mtimeNs); // the rename keeps the inode's mtime
      },
      { owner, beforeRename },
    );
  } finally {
    closeSync(srcFd);
  }
  const after = sha256File(target);
  if (after.sha256 !== f.sha256) throw new IoError(`${target}: restored but reads back as sha256 ${after.sha256}, expected ${f.sha256}`);
}
