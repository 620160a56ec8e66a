import type { Command } from 'commander';
import { acquireRepairLock, assertNotHeld, lockEtcdFiles, type EtcdFileLocks } from '../../io/locks.js';
import { writeJson } from '../render/json.js';
import { type FormatFlags, addFormatOptions, outputFormat } from '../options.js';

export function registerUndo(program: Command): void {
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
        if (o.json) writeJson({ dataDir: m.dataDir, ...r });
        else {
          process.stdout.write(`restored ${r.restored.length} file(s), removed ${r.removed.length}, ${r.unchanged.length} already original, in ${m.dataDir}\n`);
          for (const f of r.restored) process.stdout.write(`  restored ${f}\n`);
          for (const f of r.removed) process.stdout.write(`  removed  ${f}\n`);
        }
      } finally {
        await etcdLocks?.release();
        await lock.release();
      }
    });
}
