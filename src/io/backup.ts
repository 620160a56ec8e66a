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
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
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
import { assertFreeSpace } from './space.js';
import {
  BACKUP_FORMAT,
  BackupManifest,
  type SavedFileEntry,
  isDataRelPath,
} from './backup-manifest.js';

export { BACKUP_FORMAT, BackupManifest, BackupFileEntry } from './backup-manifest.js';
export type { SavedFileEntry } from './backup-manifest.js';

/** What the repair will do to a file that exists now. `moved` names the directory it goes to. */
export type FileChange = 'truncated' | 'rewritten' | 'removed' | { action: 'moved'; toDir: string };

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
    const m = BackupManifest.safeParse(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')));
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
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`${dir}: not a wal-doctor backup (no ${MANIFEST})`);
    }
    throw fsError(e, p, 'reading the backup manifest');
  }
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
    dataDir: data,
    createdAt: now.toISOString(),
    state: 'building',
    committedAt: null,
    finishedAt: null,
    undoneAt: null,
    plan,
    files: [],
    applied: [],
  };
  try {
    writeManifest(tmp, manifest);
  } catch (e) {
    discardDir(tmp);
    throw e;
  }
  crashPoint('backup:dir-created');
  return new BackupSession(data, dir, manifest);
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

  saveOriginal(relPath: string, change: FileChange): SavedFileEntry {
    checkRelPath(relPath);
    const action = typeof change === 'string' ? change : change.action;
    const movedTo = typeof change === 'string' ? undefined : join(resolve(this.dataDir, change.toDir), basename(relPath));
    const known = this.m.files.find((f) => f.path === relPath);
    if (known) {
      if (known.action === action && (known.action !== 'moved' || known.movedTo === movedTo)) return structuredClone(known);
      throw new Error(`backup: ${relPath} is already recorded as ${known.action}, not ${action}`);
    }
    this.mustBeBuilding(`saveOriginal(${relPath})`);
    if (movedTo !== undefined && exists(movedTo)) {
      throw new IoError(`${movedTo}: already exists; the repair would move ${relPath} over it`);
    }

    const src = join(this.dataDir, relPath);
    const copyRel = `${FILES}/${relPath}`;
    const dst = join(this.where, copyRel);
    ensureDir(dirname(dst));
    if (exists(dst)) removeOrThrow(dst); // a copy a crash left before it was recorded

    let srcFd: number;
    try {
      srcFd = openSync(src, 'r');
    } catch (e) {
      throw fsError(e, src, 'opening to back it up');
    }
    let size: number;
    let mode: number;
    const h = createHash('sha256');
    try {
      const st = fstatSync(srcFd);
      if (!st.isFile()) throw new IoError(`${src}: not a regular file; cannot back it up`);
      size = st.size;
      mode = st.mode & 0o7777;
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

    const base = { path: relPath, size, sha256, mode: modeString(mode), copy: copyRel };
    const entry: SavedFileEntry =
      movedTo !== undefined
        ? { action: 'moved', ...base, movedTo }
        : { action: action as 'truncated' | 'rewritten' | 'removed', ...base };
    this.m.files.push(entry);
    writeManifest(this.where, this.m);
    crashPoint('backup:file-recorded');
    return structuredClone(entry);
  }

  willCreate(relPath: string): void {
    checkRelPath(relPath);
    const known = this.m.files.find((f) => f.path === relPath);
    if (known) {
      if (known.action === 'created') return;
      throw new Error(`backup: ${relPath} is already recorded as ${known.action}, not created`);
    }
    this.mustBeBuilding(`willCreate(${relPath})`);
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
  /** files the repair created, and moved copies, deleted by this run (absolute when outside the data dir) */
  removed: string[];
  /** saved files that already held their original bytes */
  unchanged: string[];
}

/**
 * Put the data dir back as it was before the repair: every saved file byte for byte (atomically,
 * sha256 checked on the backup copy before and on the restored file after), files the repair
 * created deleted, moved files back in place. Verifies the whole backup before the first write and
 * refuses (changing nothing) if anything is missing or does not match. Idempotent; after a crash
 * during undo, running it again finishes the job.
 */
export function undo(backupDir: string, opts: { beforeRename?: ReplaceOptions['beforeRename'] } = {}): UndoResult {
  const dir = resolve(backupDir);
  const m = readBackupManifest(dir);
  if (m.state !== 'committed') {
    throw new IoError(`${dir}: incomplete backup (the repair stopped before changing anything in ${m.dataDir}); nothing to undo — delete it`);
  }
  const data = m.dataDir;
  try {
    if (!lstatSync(data).isDirectory()) throw new NotEtcdError(`${data}: not a directory`);
  } catch (e) {
    if (e instanceof NotEtcdError) throw e;
    throw fsError(e, data, 'opening the data dir named in the backup manifest');
  }

  // 1. verify everything before writing anything
  const seen = new Set<string>();
  for (const f of m.files) {
    if (seen.has(f.path)) throw new IoError(`${dir}/${MANIFEST}: corrupt backup manifest (${f.path} listed twice); nothing was changed`);
    seen.add(f.path);
    if (f.action === 'created') continue;
    if (f.copy !== `${FILES}/${f.path}`) throw new IoError(`${dir}/${MANIFEST}: corrupt backup manifest (copy of ${f.path} is ${f.copy}); nothing was changed`);
    const copy = join(dir, f.copy);
    if (!exists(copy)) throw new IoError(`${copy}: missing from the backup; nothing was changed`);
    const got = sha256File(copy);
    if (got.sha256 !== f.sha256 || got.size !== f.size) {
      throw new IoError(
        `${copy}: sha256 ${got.sha256} (${got.size} bytes) does not match the manifest's ${f.sha256} (${f.size} bytes); the backup is damaged, nothing was changed`,
      );
    }
  }

  // 2. decide what each file needs (still nothing written)
  const toRestore: SavedFileEntry[] = [];
  const toRemove: string[] = [];
  const unchanged: string[] = [];
  const touchedDirs = new Set<string>();
  for (const f of m.files) {
    const target = join(data, f.path);
    touchedDirs.add(dirname(target));
    if (f.action === 'created') {
      if (exists(target)) toRemove.push(target);
      continue;
    }
    if (exists(target) && !lstatSync(target).isFile()) {
      throw new IoError(`${target}: is not a regular file now; move it away and run undo again (nothing was changed)`);
    }
    const cur = exists(target) ? currentState(target) : undefined;
    if (cur && cur.sha256 === f.sha256 && cur.mode === f.mode) unchanged.push(f.path);
    else toRestore.push(f);
    if (f.action === 'moved') {
      touchedDirs.add(dirname(f.movedTo));
      // delete the moved copy only when it is provably ours: the original's bytes
      if (exists(f.movedTo) && sha256File(f.movedTo).sha256 === f.sha256) toRemove.push(f.movedTo);
    }
  }

  // 3. write
  const restored: string[] = [];
  for (const f of toRestore) {
    restoreOne(dir, data, f, opts.beforeRename);
    restored.push(f.path);
    crashPoint('undo:file-restored');
  }
  const removed: string[] = [];
  for (const p of toRemove) {
    try {
      unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, p, 'removing');
    }
    fsyncDir(dirname(p));
    removed.push(isInside(p, data) ? relative(data, p) : p);
    crashPoint('undo:file-removed');
  }
  for (const d of touchedDirs) removeStaleTemps(d);

  m.undoneAt = isoNow();
  writeManifest(dir, m);
  return { restored, removed, unchanged };
}

function removeOrThrow(p: string): void {
  try {
    unlinkSync(p);
  } catch (e) {
    throw fsError(e, p, 'removing');
  }
}

function currentState(p: string): { sha256: string; mode: string } | undefined {
  const st = lstatSync(p);
  if (!st.isFile()) return undefined;
  return { sha256: sha256File(p).sha256, mode: modeString(st.mode) };
}

function restoreOne(backupDir: string, data: string, f: SavedFileEntry, beforeRename: ReplaceOptions['beforeRename']): void {
  const target = join(data, f.path);
  const copy = join(backupDir, f.copy);
  ensureDir(dirname(target));
  if (exists(target) && !lstatSync(target).isFile()) {
    throw new IoError(`${target}: is not a regular file now; not replacing it (move it away and run undo again)`);
  }
  let srcFd: number;
  try {
    srcFd = openSync(copy, 'r');
  } catch (e) {
    throw fsError(e, copy, 'opening the backup copy');
  }
  try {
    replaceVia(target, parseInt(f.mode, 8), 'restore', (fd, tmp) => {
      const h = createHash('sha256');
      copyRange(srcFd, copy, fd, tmp, f.size, 0, 0, (c) => h.update(c));
      const wrote = h.digest('hex');
      if (wrote !== f.sha256) throw new IoError(`${copy}: changed while restoring (sha256 ${wrote}, expected ${f.sha256}); ${target} left as it was`);
      fsyncSync(fd);
      const back = sha256File(tmp);
      if (back.sha256 !== f.sha256 || back.size !== f.size) {
        throw new IoError(`${tmp}: reads back as sha256 ${back.sha256} (${back.size} bytes), expected ${f.sha256}; ${target} left as it was`);
      }
    }, { beforeRename });
  } finally {
    closeSync(srcFd);
  }
  const after = sha256File(target);
  if (after.sha256 !== f.sha256) throw new IoError(`${target}: restored but reads back as sha256 ${after.sha256}, expected ${f.sha256}`);
}

