import { resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { DoctorCommand } from '../program.js';
import { out } from '../output.js';
import { UsageError } from '../../errors.js';
import { locate } from '../../io/layout.js';
import { assertNotExisting, assertOutside, enclosingDataDir, isInside, realish } from '../../io/paths.js';
import { RESTORE_DEFAULTS } from '../../rebuild/ids.js';
import { planRestore, restoreFromFile } from '../../rebuild/restore.js';
import { type OldIdentity, readOldIdentity } from '../../rebuild/old-identity.js';
import { renderRebuild, renderRebuildPlan } from '../render/rebuild.js';
import { chooseSourceDb, dbWriter, writeUnapplied } from '../../rebuild/salvage.js';
import type { RestoreTarget } from '../../rebuild/wal.js';
import { type FormatFlags, addFormatOptions, outputFormat, parseEtcdVersion } from '../options.js';
import { json } from '../render/json.js';
import { progressFor } from '../render/progress.js';

interface RebuildFlags extends FormatFlags {
  from: string;
  out: string;
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  skipHashCheck?: boolean;
  etcdVersion?: string;
  unapplied?: string;
  dryRun?: boolean;
}

/** The flags whose defaults (etcdutl's) make a single member on localhost. */
const PEER_FLAGS = ['name', 'initialCluster', 'initialAdvertisePeerUrls'] as const;

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
    .action(async (o: RebuildFlags, cmdSelf: Command) => {
      const defaulted = PEER_FLAGS.filter((k) => cmdSelf.getOptionValueSource(k) === 'default');
      o.json = outputFormat(o, ['simple', 'json']) === 'json';
      const v = await parseEtcdVersion(o.etcdVersion);
      const from = resolve(o.from);
      let isDir = false;
      try {
        isDir = statSync(from).isDirectory();
      } catch {
        // locate() / restoreFromFile give the one-line error
      }
      const out = resolve(o.out);
      const unappliedPath = resolve(o.unapplied ?? `${o.out.replace(/\/+$/, '')}.unapplied.ndjson`);
      // Outputs never go into what is read: the source data dir (or the one a --from file is in).
      const sourceDirs = [enclosingDataDir(from), ...(isDir ? [from] : [])];
      assertOutside(out, '--out', sourceDirs);
      if (isDir) {
        assertOutside(unappliedPath, '--unapplied', sourceDirs);
        if (isInside(realish(unappliedPath), realish(out))) throw new UsageError(`--unapplied ${unappliedPath} is inside --out ${out}: etcd must not find it in its data dir`);
        // The only record of writes the db never got: an earlier rebuild's must never be overwritten.
        assertNotExisting(unappliedPath, '--unapplied', 'it may hold the only record of writes an earlier rebuild found unapplied: move it away or name another file');
      }
      const flags = { name: o.name, initialCluster: o.initialCluster, initialClusterToken: o.initialClusterToken, initialAdvertisePeerUrls: o.initialAdvertisePeerUrls };
      let sourcePath = from;
      let unapplied: ReturnType<typeof writeUnapplied> | undefined;
      let consistentIndex: bigint | undefined;
      let target: RestoreTarget = v ?? '3.5';
      if (o.dryRun) {
        let old: OldIdentity;
        if (isDir) {
          const layout = locate(from);
          const src = chooseSourceDb(layout);
          sourcePath = src.path;
          consistentIndex = src.consistentIndex;
          if (!v) target = src.writer;
          old = readOldIdentity(src.path, layout.segments[0]);
        } else {
          locate(from); // a missing or foreign file: the one-line error now
          if (!v) target = dbWriter(from);
          old = readOldIdentity(from, undefined);
        }
        const plan = planRestore({ ...flags, target });
        print(renderRebuildPlan(plan, o, sourcePath, target, consistentIndex, old, defaulted, out), o);
        return;
      }
      if (isDir) {
        const layout = locate(from);
        const src = chooseSourceDb(layout);
        sourcePath = src.path;
        consistentIndex = src.consistentIndex;
        if (!v) target = src.writer;
        const old = readOldIdentity(src.path, layout.segments[0]);
        const copying = progressFor(o);
        const res = restoreFromFile(sourcePath, { ...flags, target, skipHashCheck: true, ...copying.options }, out);
        copying.done();
        if (layout.segments.length > 0) {
          const walking = progressFor(o);
          unapplied = writeUnapplied(layout, src.consistentIndex, unappliedPath, walking.options.onProgress);
          walking.done();
        }
        print(renderRebuild(res, o, sourcePath, target, consistentIndex, unapplied, old, defaulted), o);
      } else {
        const old = readOldIdentity(sourcePath, undefined);
        if (!v) target = dbWriter(sourcePath);
        const copying = progressFor(o);
        const res = restoreFromFile(sourcePath, { ...flags, target, skipHashCheck: o.skipHashCheck ?? false, ...copying.options }, out);
        copying.done();
        print(renderRebuild(res, o, sourcePath, target, undefined, undefined, old, defaulted), o);
      }
    });
}

function print(r: { json: Record<string, unknown>; text: string }, o: RebuildFlags): void {
  out(o.json ? json(r.json) : r.text);
}
