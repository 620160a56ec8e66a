/**
 * "Is etcd running on this data dir?" — answered without touching etcd: no signals, no locks
 * taken on its files (the one probe, flock(1) --shared --nonblock on the db, takes and drops a
 * shared lock only when nobody holds an exclusive one), nothing written.
 *
 * What etcd locks (spec §1.2): member/snap/db with flock(LOCK_EX) (bbolt), every live WAL segment
 * and the preallocated N.tmp with an OFD write lock on Linux (flock on other systems). On Linux,
 * /proc/locks lists both; OFD entries carry no pid, so the owner is found in /proc/PID/fdinfo.
 * flock(1) on a WAL file proves nothing on Linux (flock and OFD locks do not conflict), so it is
 * only ever run on the db there.
 *
 * Also here: lockEtcdFiles, which takes those same locks for wal-doctor while it changes the dir,
 * and acquireRepairLock (lock-file.ts), wal-doctor's own lock beside the data dir.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { LockedError, fsError } from '../errors.js';
import { holdFlock, type FlockHold } from './flock-helper.js';
import { ofdLocks, tryOfdWriteLock } from './ofd-lock.js';
import { lockKey, parseProcLocks, processCommand, scanOpenFiles } from './lock-proc.js';
import type { OpenFile } from './lock-proc.js';

export { acquireRepairLock, repairLockPath } from './lock-file.js';
export type { RepairLock, RepairLockInfo } from './lock-file.js';

export type HolderKind = 'OFDLCK' | 'FLOCK' | 'POSIX' | 'flock-probe' | 'open-fd';

export interface Holder {
  /** relative to the data dir when inside it (`member/snap/db`), else absolute (a separate WAL dir) */
  path: string;
  kind: HolderKind;
  /** undefined when the owner is not visible here (another PID namespace, or its fds unreadable) */
  pid?: number;
  /** /proc/PID/comm (or argv[0]) */
  command?: string;
  /** READ (shared) or WRITE (exclusive) for locks; for open-fd, always WRITE (opened for writing) */
  access?: string;
  /** the process is blocked waiting for this lock (a `->` line): it will take it once free */
  waiting?: boolean;
  /** the /proc/locks line it came from */
  line?: string;
}

/**
 * Holder[] plus how far the look went (like a RegExp match array's `index`, the extra properties
 * are not enumerable: JSON and deepEqual see only the holders).
 */
export type HolderList = Holder[] & {
  /** true when /proc/locks was read, so every lock on these files was seen (see `limits`) */
  readonly complete: boolean;
  /** what could not be checked, one sentence each (empty when complete and every owner found) */
  readonly limits: readonly string[];
  /** the files that were checked (display paths) */
  readonly checked: readonly string[];
};

export interface FindHoldersOptions {
  /** etcd's --wal-dir, when the WAL is outside the data dir */
  walDir?: string;
  /** run `flock --nonblock --shared` on the db when /proc/locks did not show its lock (default true) */
  flockProbe?: boolean;
  /** where procfs is mounted (default /proc; tests point it elsewhere to simulate its absence) */
  proc?: string;
  /** processes whose locks are ours (our flock(1) helpers); this process is always left out */
  ignorePids?: readonly number[];
}

interface Target {
  path: string;
  abs: string;
  key: string;
  isDb: boolean;
}

/** segments in name order, then the preallocated *.tmp: the order holders are reported in */
function walFiles(dir: string): string[] {
  try {
    const names = readdirSync(dir).sort();
    return [...names.filter((n) => n.endsWith('.wal')), ...names.filter((n) => n.endsWith('.tmp'))].map((n) => join(dir, n));
  } catch {
    return [];
  }
}

function targets(dataDir: string, walDir: string | undefined, limits: string[]): Target[] {
  const root = resolve(dataDir);
  const display = (abs: string) => {
    const r = relative(root, abs);
    return r && !r.startsWith('..') && !r.startsWith(sep) ? r : abs;
  };
  const files = [...walFiles(join(root, 'member', 'wal'))];
  if (walDir !== undefined) files.push(...walFiles(resolve(walDir)));
  files.push(join(root, 'member', 'snap', 'db'));
  const out: Target[] = [];
  const seen = new Set<string>();
  for (const abs of files) {
    let st;
    try {
      st = statSync(abs, { bigint: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') limits.push(`${display(abs)} could not be checked (${code ?? String(e)})`);
      continue;
    }
    if (!st.isFile()) continue;
    const key = lockKey(st.dev, st.ino);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: display(abs), abs, key, isDb: abs.endsWith(`${sep}snap${sep}db`) });
  }
  return out;
}

/** flock(1) --shared --nonblock: 'held' if an exclusive flock is held, else 'free' or why it could not tell */
function flockProbe(path: string): 'held' | 'free' | string {
  // flock(1) opens with O_CREAT: only ever call this on a file that exists
  const r = spawnSync('flock', ['--nonblock', '--shared', '--conflict-exit-code', '75', path, 'true'], { encoding: 'utf8', timeout: 10000 });
  if (r.error) return `flock(1) could not be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status === 75) return 'held';
  if (r.status === 0) return 'free';
  return `flock(1) failed on ${path} (exit ${r.status ?? r.signal}: ${r.stderr.trim()})`;
}

/**
 * Who holds the data dir: every lock on member/snap/db and on each member/wal/*.wal / *.tmp (and
 * on those in `opts.walDir`), with the owner's pid and command when they can be seen, plus
 * processes that have one of these files open for writing without a lock. Never throws for what
 * it cannot see; says so in `limits`.
 */
export function findHolders(dataDir: string, opts: FindHoldersOptions = {}): HolderList {
  const proc = opts.proc ?? '/proc';
  const limits: string[] = [];
  const ts = targets(dataDir, opts.walDir, limits);
  const byKey = new Map(ts.map((t) => [t.key, t]));
  const holders: Holder[] = [];
  const linux = process.platform === 'linux';

  let procLocks: string | undefined;
  if (linux) {
    try {
      procLocks = readFileSync(join(proc, 'locks'), 'utf8');
    } catch (e) {
      limits.push(`${join(proc, 'locks')} could not be read (${(e as NodeJS.ErrnoException).code ?? String(e)}): locks were not listed`);
    }
  } else {
    limits.push(`not Linux (${process.platform}): there is no /proc/locks; only flock(1) probes were made`);
  }

  let open: OpenFile[] = [];
  let unreadable = 0;
  if (procLocks !== undefined && ts.length > 0) {
    const scan = scanOpenFiles(proc, new Set(byKey.keys()), new Set(ts.map((t) => t.abs.slice(t.abs.lastIndexOf(sep) + 1))));
    open = scan.files;
    unreadable = scan.unreadable;
    for (const l of parseProcLocks(procLocks)) {
      const t = l.key !== undefined ? byKey.get(l.key) : undefined;
      if (!t || (l.lockClass !== 'FLOCK' && l.lockClass !== 'POSIX' && l.lockClass !== 'OFDLCK')) continue;
      let pids: (number | undefined)[] = [l.pid];
      if (l.lockClass === 'OFDLCK' && !l.waiting) {
        // the open file description that owns it shows the same lock in its fdinfo
        const owners = open.filter((f) => f.key === l.key && f.locks.some((x) => x.lockClass === 'OFDLCK' && x.key === l.key && x.access === l.access && x.start === l.start && x.end === l.end));
        const found = [...new Set(owners.map((f) => f.pid))];
        if (found.length > 0) pids = found;
      }
      for (const pid of pids) {
        holders.push({ path: t.path, kind: l.lockClass, ...(pid !== undefined ? { pid } : {}), access: l.access, ...(l.waiting ? { waiting: true } : {}), line: l.line });
      }
    }
    for (const f of open) {
      const t = byKey.get(f.key);
      // our own fds are not a holder: the caller may well have the dir's files open
      if (!t || !f.writable || f.pid === process.pid || holders.some((h) => h.path === t.path && h.pid === f.pid)) continue;
      holders.push({ path: t.path, kind: 'open-fd', pid: f.pid, access: 'WRITE' });
    }
  }

  // flock(1): on Linux only the db (a bbolt flock), and only when /proc/locks did not already show it;
  // elsewhere etcd flocks the WAL files too, so probe them all.
  if (opts.flockProbe !== false) {
    for (const t of ts) {
      if (linux && !t.isDb) continue;
      if (holders.some((h) => h.path === t.path && !h.waiting && (h.kind === 'FLOCK' || h.kind === 'flock-probe'))) continue;
      if (!existsSync(t.abs)) continue;
      const r = flockProbe(t.abs);
      if (r === 'held') {
        const owners = [...new Set(open.filter((f) => f.key === t.key).map((f) => f.pid))];
        if (owners.length === 0) holders.push({ path: t.path, kind: 'flock-probe', access: 'WRITE' });
        for (const pid of owners) holders.push({ path: t.path, kind: 'flock-probe', pid, access: 'WRITE' });
      } else if (r !== 'free') {
        limits.push(r);
      }
    }
  }

  const cmd = new Map<number, string | undefined>();
  for (const h of holders) {
    if (h.pid === undefined || !linux) continue;
    if (!cmd.has(h.pid)) cmd.set(h.pid, processCommand(proc, h.pid));
    const c = cmd.get(h.pid);
    if (c !== undefined) h.command = c;
  }
  const ownerless = holders.filter((h) => h.pid === undefined && !h.waiting);
  if (ownerless.length > 0 && procLocks !== undefined) {
    limits.push(
      `the owner of ${ownerless.length === 1 ? 'a lock' : `${ownerless.length} locks`} is not visible here` +
        (unreadable > 0 ? ` (${unreadable} processes' open files could not be read: not root?)` : ' (another PID namespace or container?)'),
    );
  }
  // Our own locks are not holders: the OFD locks this process takes on the WAL while it repairs,
  // and the flock its flock(1) helper holds on the db.
  const ours = new Set([process.pid, ...(opts.ignorePids ?? [])]);
  for (let i = holders.length - 1; i >= 0; i--) if (holders[i]!.pid !== undefined && ours.has(holders[i]!.pid!)) holders.splice(i, 1);
  const order = new Map(ts.map((t, i) => [t.path, i]));
  holders.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
  return Object.defineProperties(holders, {
    complete: { value: procLocks !== undefined, enumerable: false },
    limits: { value: limits, enumerable: false },
    checked: { value: ts.map((t) => t.path), enumerable: false },
  }) as HolderList;
}

function describe(h: Holder): string {
  const who = h.pid !== undefined ? `${h.command ?? 'process'} (pid ${h.pid})` : undefined;
  if (h.kind === 'open-fd') return `${h.path} is open for writing by ${who ?? 'a process'}`;
  if (h.waiting) return `${h.path} is about to be locked by ${who ?? 'a process'} (it is waiting for the lock)`;
  if (who) return `${h.path} is locked by ${who}`;
  if (h.kind === 'flock-probe') return `${h.path} is locked (an exclusive flock, found with flock(1); its owner is not visible here)`;
  return `${h.path} is locked (${h.kind} lock; its owner is not visible here: another container or PID namespace?)`;
}

/** The holder worth naming: a held lock with a known owner first, waiters and bare open fds last. */
function rank(h: Holder): number {
  return (h.waiting ? 4 : 0) + (h.kind === 'open-fd' ? 2 : 0) + (h.pid === undefined ? 1 : 0);
}

/**
 * Throw LockedError (exit 75) if anything holds the data dir, in one line naming a file and its
 * owner: `member/wal/0000000000000000-0000000000000000.wal is locked by etcd (pid 8286): stop etcd
 * before repairing`. Returns the (empty) HolderList so the caller can print its `limits`.
 */
export function assertNotHeld(dataDir: string, opts: FindHoldersOptions = {}): HolderList {
  const holders = findHolders(dataDir, opts);
  if (holders.length === 0) return holders;
  const first = [...holders].sort((a, b) => rank(a) - rank(b))[0] as Holder;
  const others = [...new Set(holders.map((h) => h.path))].filter((p) => p !== first.path);
  const what = first.command === 'etcd' || first.pid === undefined ? 'etcd' : `${first.command ?? 'it'} (pid ${first.pid})`;
  throw new LockedError(
    `${describe(first)}: stop ${what} before repairing` + (others.length > 0 ? ` (also held: ${others.join(', ')})` : ''),
  );
}

/** The locks etcd itself takes, held by wal-doctor while it changes the dir (see lockEtcdFiles). */
export interface EtcdFileLocks {
  /** what was locked, relative to the data dir: `member/snap/db (flock)`, `member/wal/x.wal (OFD)` */
  locked: string[];
  /** what could not be locked and why (no OFD locks here, no flock(1)): the dir is then guarded by the /proc checks only */
  limits: string[];
  /** for findHolders/assertNotHeld: leave our own locks out */
  holderOptions: FindHoldersOptions;
  /**
   * For replaceVia's beforeRename: lock the new file (its fd, open for writing) before it takes a
   * locked file's name, so the lock stays on whatever is at that name. Returns true (keep the fd
   * open) when it took the lock.
   */
  adopt(fd: number, tmp: string): boolean;
  /** drop every lock (closing the fds, ending the flock helper); safe to call twice */
  release(): Promise<void>;
}

/**
 * Take the locks etcd takes (spec §1.2), for as long as wal-doctor changes the dir: flock
 * LOCK_EX|LOCK_NB on member/snap/db, as bbolt does (a starting etcd then waits at its db open
 * until we are done), and an OFD write lock on every WAL segment and preallocated .tmp, as etcd
 * does on Linux. A running etcd holds them, so taking them is the kernel's own answer to "is etcd
 * running?", whatever PID namespace or container it is in: LockedError (exit 75), naming the
 * holder when /proc shows it. Non-regular files are skipped (never opened: see safe-open.ts).
 */
export async function lockEtcdFiles(dataDir: string): Promise<EtcdFileLocks> {
  const root = resolve(dataDir);
  const member = existsSync(join(root, 'member')) ? join(root, 'member') : root;
  const rel = (abs: string) => relative(root, abs);
  const fds: number[] = [];
  const locked: string[] = [];
  const limits: string[] = [];
  let flock: FlockHold | undefined;
  const release = async (): Promise<void> => {
    for (const fd of fds.splice(0)) {
      try {
        closeSync(fd);
      } catch { /* closing drops the lock; nothing else to do */ }
    }
    const f = flock;
    flock = undefined;
    await f?.release();
  };
  const refuse = (path: string, kind: string): never => {
    const opts = { ignorePids: flock ? [flock.pid] : [], flockProbe: !flock };
    assertNotHeld(root, opts); // names the holder (etcd and its pid) when /proc shows it
    throw new LockedError(`${path} is locked (${kind}, by a process not visible here: another container or PID namespace?): stop etcd before repairing`);
  };
  try {
    const db = join(member, 'snap', 'db');
    const dbSt = lstatSync(db, { throwIfNoEntry: false });
    if (dbSt?.isFile()) {
      const r = await holdFlock(db);
      if ('conflict' in r) refuse(rel(db), 'an exclusive flock, as bbolt takes');
      else if ('error' in r) limits.push(`${rel(db)} not locked: ${r.error}`);
      else {
        flock = r.held;
        locked.push(`${rel(db)} (flock)`);
      }
    }
    const ofd = ofdLocks();
    const walDir = join(member, 'wal');
    const names = walFiles(walDir);
    if (!ofd.available && names.length > 0) limits.push(`WAL segments not locked: ${ofd.why}`);
    if (ofd.available) {
      for (const abs of names) {
        let fd: number;
        try {
          fd = openSync(abs, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') continue; // gone, or not a file etcd could lock either
          throw fsError(e, abs, 'opening to lock it as etcd does');
        }
        if (!fstatSync(fd).isFile()) {
          closeSync(fd);
          continue;
        }
        fds.push(fd);
        if (!tryOfdWriteLock(fd)) refuse(rel(abs), 'an OFD write lock, as etcd takes');
        locked.push(`${rel(abs)} (OFD)`);
      }
    }
  } catch (e) {
    await release();
    throw e;
  }
  return {
    locked,
    limits,
    get holderOptions(): FindHoldersOptions {
      return { ignorePids: flock ? [flock.pid] : [], flockProbe: !flock };
    },
    adopt(fd: number): boolean {
      if (!ofdLocks().available) return false;
      if (!tryOfdWriteLock(fd)) return false; // a fresh temp nobody else has: cannot happen
      fds.push(fd);
      return true;
    },
    release,
  };
}
