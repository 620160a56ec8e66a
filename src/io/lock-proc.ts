/**
 * Linux /proc readers for "who holds this file": /proc/locks lines, st_dev → "major:minor:inode"
 * keys the way the kernel prints them, and the open files of every process (/proc/PID/fd and
 * /proc/PID/fdinfo). Read-only; nothing here opens, locks or signals the files being looked at.
 *
 * /proc/locks (fs/locks.c lock_get_status):
 *   `1: OFDLCK ADVISORY  WRITE -1 fe:00:2148710 0 EOF`
 *   `1: -> FLOCK  ADVISORY  WRITE 8301 fe:00:2148708 0 EOF`   (a waiter blocked on lock 1)
 * major and minor are hex (%02x), the inode decimal; OFD locks have no owning process (pid -1).
 * FLOCK/POSIX entries whose owner is not visible in the PID namespace of the /proc mount are left
 * out; OFD entries are always listed (checked with `unshare --pid --fork --mount-proc`).
 * /proc/PID/fdinfo/N lists, in `lock:` lines of the same format, the locks owned by that open file
 * description: this is how an OFD lock (pid -1) is tied to a process.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export type ProcLockClass = 'FLOCK' | 'POSIX' | 'OFDLCK' | 'LEASE' | 'DELEG' | 'UNKNOWN';

export interface ProcLock {
  /** the `n:` ordinal of the line (waiters share their blocker's ordinal) */
  ordinal: number;
  /** a `->` line: this process waits for the lock, it does not hold it */
  waiting: boolean;
  lockClass: ProcLockClass;
  /** ADVISORY / MANDATORY / ACTIVE / BREAKING ... */
  type: string;
  /** READ / WRITE / UNLCK ... */
  access: string;
  /** owning pid in the /proc mount's PID namespace; undefined for OFD locks (-1) and `<none>` */
  pid: number | undefined;
  /** `major:minor:inode` as printed (lower-case hex, at least two digits), or undefined for `<none>` */
  key: string | undefined;
  start: string;
  end: string;
  line: string;
}

const KEY_RE = /^([0-9a-f]+):([0-9a-f]+):(\d+)$/i;
const CLASSES: readonly string[] = ['FLOCK', 'POSIX', 'OFDLCK', 'LEASE', 'DELEG'];

/** Parse /proc/locks (or the `lock:` lines of an fdinfo file, prefix stripped). Unknown lines are skipped. */
export function parseProcLocks(text: string): ProcLock[] {
  const out: ProcLock[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^lock:\s*/, '').trim();
    const tok = line.split(/\s+/);
    const ord = /^(\d+):$/.exec(tok[0] ?? '');
    if (!ord?.[1]) continue;
    let i = 1;
    const waiting = tok[i] === '->';
    if (waiting) i++;
    const cls = tok[i] ?? '';
    const keyAt = tok.findIndex((t, j) => j > i && (KEY_RE.test(t) || t.startsWith('<none>')));
    if (keyAt < 0) continue;
    const pidNum = Number(tok[keyAt - 1]);
    const m = KEY_RE.exec(tok[keyAt] ?? '');
    out.push({
      ordinal: Number(ord[1]),
      waiting,
      lockClass: (CLASSES.includes(cls) ? cls : 'UNKNOWN') as ProcLockClass,
      type: tok[i + 1] ?? '',
      access: tok[keyAt - 2] ?? '',
      pid: Number.isInteger(pidNum) && pidNum > 0 ? pidNum : undefined,
      key: m?.[1] && m[2] && m[3] ? lockKeyOf(BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`), BigInt(m[3])) : undefined,
      start: tok[keyAt + 1] ?? '',
      end: tok[keyAt + 2] ?? '',
      line,
    });
  }
  return out;
}

// glibc writes these masks as ~0xfff and ~0xff on 32-bit unsigned ints; with bigint, ~ has no
// width, so they are spelled out (else bits of the major leak into the minor).
/** Linux st_dev → major (glibc gnu_dev_major): 12 bits at 8..19, 20 bits at 44..63. */
export function devMajor(dev: bigint): bigint {
  return ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
}

/** Linux st_dev → minor (glibc gnu_dev_minor): 8 bits at 0..7, 24 bits at 20..43. */
export function devMinor(dev: bigint): bigint {
  return (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
}

function lockKeyOf(major: bigint, minor: bigint, ino: bigint): string {
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino.toString(10)}`;
}

/** The `major:minor:inode` key /proc/locks prints for a file with this (bigint) st_dev and st_ino. */
export function lockKey(dev: bigint, ino: bigint): string {
  return lockKeyOf(devMajor(dev), devMinor(dev), ino);
}

/** lockKey of a path (follows symlinks); undefined if it cannot be stat'ed. */
export function lockKeyOfPath(path: string): string | undefined {
  try {
    const s = statSync(path, { bigint: true });
    return lockKey(s.dev, s.ino);
  } catch {
    return undefined;
  }
}

export interface OpenFile {
  pid: number;
  fd: number;
  /** the fd's target as the kernel prints it (in the owner's mount namespace) */
  target: string;
  key: string;
  /** opened O_WRONLY or O_RDWR (from fdinfo `flags:`); undefined when fdinfo was unreadable */
  writable: boolean | undefined;
  /** locks owned by this open file description (fdinfo `lock:` lines) */
  locks: ProcLock[];
}

export interface FdScan {
  files: OpenFile[];
  /** processes whose fd table could not be read (not ours and we are not root, or they exited) */
  unreadable: number;
  scanned: number;
}

/**
 * Every open fd, in every process we may look at, whose target is one of `keys`. Candidates are
 * picked by the link's base name (cheap), then confirmed by stat'ing /proc/PID/fd/N, which gives
 * the same st_dev/st_ino as our own stat even when the owner sees the file under another path
 * (another mount namespace, a bind mount). Never throws for a process it cannot read.
 */
export function scanOpenFiles(proc: string, keys: ReadonlySet<string>, names: ReadonlySet<string>): FdScan {
  const res: FdScan = { files: [], unreadable: 0, scanned: 0 };
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return res;
  }
  for (const p of pids) {
    const fdDir = join(proc, p, 'fd');
    let fds: string[];
    try {
      fds = readdirSync(fdDir);
    } catch {
      res.unreadable++;
      continue;
    }
    res.scanned++;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(join(fdDir, fd));
      } catch {
        continue;
      }
      if (!target.startsWith('/') || !names.has(basename(target.replace(/ \(deleted\)$/, '')))) continue;
      const key = lockKeyOfPath(join(fdDir, fd));
      if (key === undefined || !keys.has(key)) continue;
      let writable: boolean | undefined;
      let locks: ProcLock[] = [];
      try {
        const info = readFileSync(join(proc, p, 'fdinfo', fd), 'utf8');
        const flags = /^flags:\s*([0-7]+)/m.exec(info);
        if (flags?.[1]) writable = (parseInt(flags[1], 8) & 3) !== 0;
        locks = parseProcLocks(info.split('\n').filter((l) => l.startsWith('lock:')).join('\n'));
      } catch { /* exited, or not ours */ }
      res.files.push({ pid: Number(p), fd: Number(fd), target, key, writable, locks });
    }
  }
  return res;
}

/** A process's name: /proc/PID/comm, else the base name of argv[0]; undefined if it is gone or hidden. */
export function processCommand(proc: string, pid: number): string | undefined {
  try {
    const comm = readFileSync(join(proc, String(pid), 'comm'), 'utf8').trim();
    if (comm) return comm;
  } catch { /* try cmdline */ }
  try {
    const argv0 = readFileSync(join(proc, String(pid), 'cmdline'), 'utf8').split('\0')[0];
    if (argv0) return basename(argv0);
  } catch { /* gone */ }
  return undefined;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), as a decimal string. */
export function processStartTime(proc: string, pid: number): string | undefined {
  try {
    const stat = readFileSync(join(proc, String(pid), 'stat'), 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields after it start past the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 3 is rest[0], so field 22 is rest[19]
  } catch {
    return undefined;
  }
}
