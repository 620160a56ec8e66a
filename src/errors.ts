/**
 * The few errors the tool throws on purpose, each with its exit code. Corrupt bytes are not
 * errors (they become findings in a report); these are about the invocation and the environment.
 * cli/main.ts is the one place that catches them and prints a single line.
 */

export const ExitCode = {
  healthy: 0,
  repairable: 1,
  needsRebuild: 2,
  alarm: 6,
  usage: 64,
  notFound: 66,
  io: 74,
  locked: 75,
} as const;

export class DoctorError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags or arguments. */
export class UsageError extends DoctorError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** The path does not exist, or holds nothing etcd wrote. */
export class NotEtcdError extends DoctorError {
  constructor(message: string) {
    super(message, ExitCode.notFound);
  }
}

/** The input is etcd's, but nothing safe can be made of it: a human has to choose (exit 2). */
export class RefusedError extends DoctorError {
  constructor(message: string) {
    super(message, ExitCode.needsRebuild);
  }
}

/** The operating system refused a read or write. */
export class IoError extends DoctorError {
  constructor(message: string) {
    super(message, ExitCode.io);
  }
}

/** A running etcd (or another wal-doctor) holds the data dir. */
export class LockedError extends DoctorError {
  constructor(message: string) {
    super(message, ExitCode.locked);
  }
}

/** Turn a Node fs error into an IoError or NotEtcdError naming the path. */
export function fsError(e: unknown, path: string, doing: string): DoctorError {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'ENOENT') return new NotEtcdError(`${path}: no such file or directory`);
  if (err && (err.code === 'EACCES' || err.code === 'EPERM')) return new IoError(`${path}: permission denied while ${doing}`);
  if (err && err.code === 'EISDIR') return new IoError(`${path}: is a directory, expected a file (${doing})`);
  return new IoError(`${path}: ${doing} failed: ${err?.code ?? ''} ${err?.message ?? String(e)}`.trim());
}
