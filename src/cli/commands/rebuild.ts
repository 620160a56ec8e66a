import type { Command } from 'commander';
import { RESTORE_DEFAULTS } from '../../rebuild/ids.js';
import { type FormatFlags, addFormatOptions } from '../options.js';
import type { DoctorCommand } from '../program.js';

export interface RebuildFlags extends FormatFlags {
  from: string;
  out: string;
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  skipHashCheck?: boolean;
  salvage?: boolean;
  etcdVersion?: string;
  unapplied?: string;
  dryRun?: boolean;
}

/** `wal-doctor rebuild`: its flags and help; what it does is in rebuild-action.ts, loaded when it runs. */
export function registerRebuild(program: DoctorCommand): void {
  const cmd = program
    .command('rebuild')
    .description('a new data dir from an `etcdctl snapshot save` file or from a damaged data dir\'s db (like etcdutl snapshot restore)')
    .requiredOption('--from <path>', 'a snapshot file, or a data dir whose db survived')
    .requiredOption('--out <dir>', 'the new data dir (must not exist or be empty)')
    .option('--name <name>', 'this member\'s name', RESTORE_DEFAULTS.name)
    .option('--initial-cluster <list>', 'name=peerURL,... of every member', RESTORE_DEFAULTS.initialCluster)
    .option('--initial-cluster-token <token>', 'the cluster token', RESTORE_DEFAULTS.initialClusterToken)
    .option('--initial-advertise-peer-urls <urls>', 'this member\'s peer URLs', RESTORE_DEFAULTS.initialAdvertisePeerUrls)
    .option('--skip-hash-check', 'rebuild from a snapshot file whose SHA-256 trailer is missing or wrong')
    .option('--salvage', 'rebuild from a db whose tree has pages that cannot be read, leaving out what they hold (refused without it)')
    .option('--etcd-version <v>', 'write what this etcd\'s restore writes: 3.4, 3.5, 3.6 or 3.7 (default: the db\'s writer)')
    .option('--unapplied <file>', 'with a data dir: where the WAL entries the db never applied go (default <out>.unapplied.ndjson; must not exist)')
    .option('-n, --dry-run', 'print the plan (source, members, the IDs it gives, what changes) and write nothing')
    .addHelpText(
      'after',
      `
The new data dir is a new cluster, as etcdutl snapshot restore makes it: member and cluster IDs
are computed from --initial-cluster, --initial-advertise-peer-urls and --initial-cluster-token, so
they change unless those are the flags the old cluster was bootstrapped with. Without flags the
member is 'default' on http://localhost:2380 (etcdutl's defaults): other members cannot reach that.
The output names the old IDs, the new ones, and when the old ones can be kept the exact flags that
keep them (a member added with 'etcdctl member add' has a time-derived ID no flag reproduces).

Examples:
  wal-doctor rebuild --dry-run --from /var/lib/etcd --out /var/lib/etcd.new
  wal-doctor rebuild --from /var/lib/etcd --out /var/lib/etcd.new --name node1 \\
    --initial-cluster node1=https://10.0.0.1:2380 --initial-advertise-peer-urls https://10.0.0.1:2380
  wal-doctor rebuild --from backup.db --out /var/lib/etcd.new ...   (an etcdctl snapshot save file)`,
    );
  addFormatOptions(cmd, ['simple', 'json'], false)
    .action(async (o: RebuildFlags, cmdSelf: Command) => (await import('./rebuild-action.js')).rebuildAction(o, cmdSelf));
}
