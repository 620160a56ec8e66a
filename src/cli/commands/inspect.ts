import type { DoctorCommand } from '../program.js';
import { type AnalysisFlags, type FormatFlags, addFormatOptions, collect } from '../options.js';

export interface InspectFlags extends AnalysisFlags, FormatFlags {
  timeline?: boolean;
}

/** `wal-doctor inspect`: its flags and help; what it does is in inspect-action.ts, loaded when it runs. */
export function registerInspect(program: DoctorCommand): void {
  const cmd = program
    .command('inspect')
    .description('full report on a data dir, member dir, wal dir, .wal, .snap or db file; the verdict is its first line')
    .argument('<path>', 'what to inspect');
  addFormatOptions(cmd)
    .option('--peer-dir <dir>', 'a data dir of one of this member\'s peers (repeat for each): is this member behind what the cluster committed?', collect)
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir (etcd --wal-dir)')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5, 3.6 or 3.7 (default: the one that wrote the dir)')
    .option('--timeline', 'instead of the report: term changes (elections), conf changes, compactions, snapshot records, writes per term and per Kubernetes resource, in one pass over the WAL')
    .addHelpText(
      'after',
      `
Examples:
  wal-doctor inspect /var/lib/etcd                  data dir: verdict, layout, WAL, db, boot prediction
  wal-doctor inspect -w table member/snap/db        a db or snapshot file: etcdutl snapshot status's table
  wal-doctor inspect -w json /var/lib/etcd | jq .verdict
  wal-doctor inspect --timeline /var/lib/etcd       elections, conf changes, compactions, writes per term

Exit codes: 0 healthy, 1 repairable, 2 needs rebuild, 6 alarm raised (writes refused),
64 usage, 66 not found, 74 I/O, 75 in use.`,
    )
    .action(async (path: string, o: InspectFlags) => (await import('./inspect-action.js')).inspectAction(path, o));
}
