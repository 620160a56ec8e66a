/**
 * `manifest.json` of a repair backup: what was saved, from where, with which sha256, owner, group,
 * mode and mtime, the directories the repair changes (as they were), and how far the repair got.
 * Written atomically after every change, so it always describes exactly the copies that are safely
 * on disk. `undo` checks every field before it acts on any (see undo in backup.ts): a manifest is
 * data someone could have crafted.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';

export const BACKUP_FORMAT = 'wal-doctor-backup/2';
/** Written by wal-doctor before owners, mtimes and directories were recorded: still undone (owners then come from the directory). */
export const BACKUP_FORMAT_V1 = 'wal-doctor-backup/1';

/** A normalised path relative to the data dir that stays inside it. */
export function isDataRelPath(p: string): boolean {
  return p.length > 0 && !isAbsolute(p) && normalize(p) === p && p !== '.' && p !== '..' && !p.startsWith('../') && !p.includes('\0');
}

const RelPath = z.string().refine(isDataRelPath, 'must be a normalised path inside the data dir');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
// Parsed loosely (0 + 3 or 4 octal digits) so that undo can say exactly why a mode is refused:
// set-id and sticky bits never are accepted (see checkMode in backup.ts).
const Mode = z.string().regex(/^0[0-7]{3,4}$/).describe('permission bits, octal (e.g. "0644")');
const Timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const Id = z.number().int().nonnegative().max(0xffffffff);
const Nanoseconds = z.string().regex(/^\d{1,25}$/).describe('mtime in nanoseconds since the epoch, decimal');

/** What the repair does to a file whose original bytes are saved in the backup. */
export const SAVED_ACTIONS = ['truncated', 'rewritten', 'removed'] as const;
export type SavedAction = (typeof SAVED_ACTIONS)[number];

/** Owner, group and mtime as they were (format 2; absent in format 1). */
const owned = {
  uid: Id.optional(),
  gid: Id.optional(),
  mtimeNs: Nanoseconds.optional(),
};

const savedBase = {
  path: RelPath.describe('where the file is in the data dir'),
  size: z.number().int().nonnegative(),
  sha256: Sha256.describe('of the original bytes (and of the copy under backup/files/)'),
  mode: Mode,
  copy: z.string().describe('the copy, relative to the backup dir: files/<path>'),
  ...owned,
};

export const BackupFileEntry = z.discriminatedUnion('action', [
  z.object({ action: z.enum(SAVED_ACTIONS), ...savedBase }),
  z.object({ action: z.literal('created'), path: RelPath.describe('a file the repair creates; undo deletes it') }),
]);
export type BackupFileEntry = z.infer<typeof BackupFileEntry>;
export type SavedFileEntry = Extract<BackupFileEntry, { action: SavedAction }>;

/** A directory the repair changes (an entry in it is rewritten, created or removed) or removes. */
export const BackupDirEntry = z.object({
  path: z.union([z.literal('.'), RelPath]).describe("relative to the data dir; '.' is the data dir itself"),
  mode: Mode,
  uid: Id,
  gid: Id,
  mtimeNs: Nanoseconds,
});
export type BackupDirEntry = z.infer<typeof BackupDirEntry>;

export const BackupManifest = z.object({
  format: z.enum([BACKUP_FORMAT, BACKUP_FORMAT_V1]),
  toolVersion: z.string(),
  dataDir: z.string().refine(isAbsolute, 'must be absolute'),
  createdAt: Timestamp,
  state: z
    .enum(['building', 'committed'])
    .describe('building: copies being made, the data dir is untouched (not a usable backup); committed: complete, the repair may change the data dir'),
  committedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable().describe('set when the repair applied every step'),
  undoneAt: Timestamp.nullable().describe('set when undo completed'),
  plan: z.unknown().describe('the repair plan, as JSON'),
  files: z.array(BackupFileEntry),
  dirs: z.array(BackupDirEntry).default([]).describe('every directory the repair changes or removes, as it was (format 2)'),
  applied: z.array(z.object({ step: z.string(), at: Timestamp })).describe('steps the repair finished, in order'),
});
export type BackupManifest = z.infer<typeof BackupManifest>;
