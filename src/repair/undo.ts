/**
 * `wal-doctor undo`: put back every file a repair changed, with the data dir held as a repair
 * holds it. The backup is checked before the data dir it names is locked (or touched in any way).
 */
import { undo, undoTarget, type UndoResult } from '../io/backup.js';
import { withDataDirHeld } from './hold.js';

export async function undoRepair(backupDir: string): Promise<UndoResult & { dataDir: string }> {
  const { dataDir } = undoTarget(backupDir);
  return withDataDirHeld(dataDir, async (held) => {
    held.recheck();
    return { dataDir, ...undo(backupDir, { beforeRename: held.beforeRename }) };
  });
}
