/**
 * `manifest.json` of a repair backup: what was saved, from where, with which sha256, and how far
 * the repair got. `undo` trusts nothing else. Written atomically after every change, so it always
 * describes exactly the copies that are safely on disk.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';

export const BACKUP_FORMAT = 'wal-doctor-backup/1';

/** A normalised path relative to the data dir that stays inside it. */
export function isDataRelPath(p: string): boolean {
  return p.length > 0 && !isAbsolute(p) && normalize(p) === p && p !== '.' && p !== '..' && !p.startsWith('../') && !p.includes('\0');
}

const RelPath = z.string().refine(isDataRelPath, 'must be a normalised path inside the data dir');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Mode = z.string().regex(/^0[0-7]{3,4}$/).describe('permission bits, octal (e.g. "0644")');
const Timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

/** What the repair does to a file whose original bytes are saved in the backup. */
export const SAVED_ACTIONS = ['truncated', 'rewritten', 'removed', 'moved'] as const;
export type SavedAction = (typeof SAVED_ACTIONS)[number];

const savedBase = {
  path: RelPath.describe('where the file is in the data dir'),
  size: z.number().int().nonnegative(),
  sha256: Sha256.describe('of the original bytes (and of the copy under backup/files/)'),
  mode: Mode,
  copy: z.string().describe('the copy, relative to the backup dir: files/<path>'),
};

export const BackupFileEntry = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['truncated', 'rewritten', 'removed']), ...savedBase }),
  z.object({
    action: z.literal('moved'),
    ...savedBase,
    movedTo: z.string().refine(isAbsolute, 'must be absolute').describe('where the repair moves it'),
  }),
  z.object({ action: z.literal('created'), path: RelPath.describe('a file the repair creates; undo deletes it') }),
]);
export type BackupFileEntry = z.infer<typeof BackupFileEntry>;
export type SavedFileEntry = Exclude<BackupFileEntry, { action: 'created' }>;

export const BackupManifest = z.object({
  format: z.literal(BACKUP_FORMAT),
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
  applied: z.array(z.object({ step: z.string(), at: Timestamp })).describe('steps the repair finished, in order'),
});
export type BackupManifest = z.infer<typeof BackupManifest>;
