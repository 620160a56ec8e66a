import type { DoctorCommand } from '../program.js';
import { type AnalysisFlags, type FormatFlags, addFormatOptions, collect } from '../options.js';

/** `wal-doctor verify`: its flags and help; what it does is in verify-action.ts, loaded when it runs. */
export function registerVerify(program: DoctorCommand): void {
  const cmd = program
    .command('verify')
    .description('same analysis as inspect, terse, for scripts; exit 0 healthy, 1 repairable, 2 needs rebuild')
    .argument('<path>', 'data dir (or member dir, wal dir, .wal, .snap, db)');
  addFormatOptions(cmd)
    .option('--peer-dir <dir>', 'a data dir of one of this member\'s peers (repeat for each): is this member behind what the cluster committed?', collect)
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5, 3.6 or 3.7')
    .addHelpText(
      'after',
      `
Before etcd starts (systemd ExecStartPre=, a Kubernetes initContainer):
  0   start etcd
  1   run wal-doctor repair --auto, then start etcd if it exits 0
  2   do not start: page a human (rebuild, or repair --bridge on a single member)
  6   start etcd, but it refuses writes until its alarm (NOSPACE, CORRUPT) is disarmed:
      page a human (compact, defrag, etcdctl alarm disarm)
  75  another etcd holds the dir: do NOT start a second one
  64/66/74  usage, not found, I/O: do not start

Examples:
  wal-doctor verify /var/lib/etcd; echo $?
  wal-doctor verify -w json /var/lib/etcd | jq -r .verdict.status`,
    )
    .action(async (path: string, o: AnalysisFlags & FormatFlags) => (await import('./verify-action.js')).verifyAction(path, o));
}
