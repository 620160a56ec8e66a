import { acquireRepairLock, assertNotHeld, lockEtcdFiles, type EtcdFileLocks } from '../../io/locks.js';
import { json } from '../render/json.js';
import { out } from '../output.js';
import type { DoctorCommand } from '../program.js';
import { type FormatFlags, addFormatOptions, outputFormat } from '../options.js';

export function registerUndo(program: DoctorCommand): void {
  const cmd = program
    .command('undo')
    .description('put back, byte for byte, every file a repair changed, from its backup dir')
    .argument('<backup-dir>', 'the backup dir a repair printed');
  addFormatOptions(cmd, ['simple', 'json'])
    .action(async (backupDir: string, o: FormatFlags) => {
      o.json = outputFormat(o, ['simple', 'json']) === 'json';
      const { undo, undoTarget } = await import('../../io/backup.js');
      // The backup is checked before the data dir it names is locked (or touched in any way).
      const target = undoTarget(backupDir);
      const m = { dataDir: target.dataDir };
      const lock = await acquireRepairLock(m.dataDir);
      let etcdLocks: EtcdFileLocks | undefined;
      try {
        etcdLocks = await lockEtcdFiles(m.dataDir);
        assertNotHeld(m.dataDir, etcdLocks.holderOptions);
        lock.assertHeld();
        const held = etcdLocks;
        const r = undo(backupDir, { beforeRename: (fd, tmp) => held.adopt(fd, tmp) });
        if (o.json) out(json({ dataDir: m.dataDir, ...r }));
        else {
          out(`restored ${r.restored.length} file(s), removed ${r.removed.length}, ${r.unchanged.length} already original, in ${m.dataDir}\n`);
          for (const f of r.restored) out(`  restored ${f}\n`);
          for (const f of r.removed) out(`  removed  ${f}\n`);
        }
      } finally {
        await etcdLocks?.release();
        await lock.release();
      }
    });
}
