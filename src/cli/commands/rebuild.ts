import { resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { locate } from '../../io/layout.js';
import { assertNotExisting, assertOutside, enclosingDataDir, isInside, realish } from '../../io/paths.js';
import { hex16 } from '../../format/wal/names.js';
import { RESTORE_DEFAULTS } from '../../rebuild/ids.js';
import { type RestorePlan, planRestore, restoreFromFile } from '../../rebuild/restore.js';
import { type KeepIdsFlags, type OldIdentity, flagsKeepingIds, readOldIdentity } from '../../rebuild/old-identity.js';
import { chooseSourceDb, dbWriter, writeUnapplied } from '../../rebuild/salvage.js';
import type { RestoreTarget } from '../../rebuild/wal.js';
import { type FormatFlags, addFormatOptions, outputFormat, parseEtcdVersion } from '../options.js';
import { writeJson } from '../render/json.js';
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
const FLAG_NAME: Record<(typeof PEER_FLAGS)[number] | 'initialClusterToken', string> = {
  name: '--name',
  initialCluster: '--initial-cluster',
  initialAdvertisePeerUrls: '--initial-advertise-peer-urls',
  initialClusterToken: '--initial-cluster-token',
};

export function registerRebuild(program: Command): void {
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
        printPlan(plan, o, sourcePath, target, consistentIndex, old, defaulted, out);
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
        report(res, o, sourcePath, target, consistentIndex, unapplied, old, defaulted);
      } else {
        const old = readOldIdentity(sourcePath, undefined);
        if (!v) target = dbWriter(sourcePath);
        const copying = progressFor(o);
        const res = restoreFromFile(sourcePath, { ...flags, target, skipHashCheck: o.skipHashCheck ?? false, ...copying.options }, out);
        copying.done();
        report(res, o, sourcePath, target, undefined, undefined, old, defaulted);
      }
    });
}

function report(
  res: ReturnType<typeof restoreFromFile>,
  o: RebuildFlags,
  source: string,
  target: string,
  consistentIndex: bigint | undefined,
  unapplied: ReturnType<typeof writeUnapplied> | undefined,
  old: OldIdentity,
  defaulted: readonly string[],
): void {
  const skipped = res.db.skippedCount ?? 0;
  const ids = identity(res.plan, old, o, defaulted);
  if (o.json) {
    writeJson({
      ...ids.json,
      dataDir: res.dataDir,
      source,
      target,
      memberId: hex16(res.memberId),
      clusterId: hex16(res.clusterId),
      members: res.plan.members.map((m) => ({ name: m.name, id: hex16(m.id), peerUrls: m.peerUrls })),
      consistentIndex: consistentIndex === undefined ? null : `${consistentIndex}`,
      trailer: res.trailer ? (res.trailer.ok ? 'sha256-ok' : 'sha256-mismatch') : 'none',
      dbItemsSkipped: skipped,
      unapplied: unapplied
        ? { path: unapplied.path, entries: unapplied.entries, damaged: unapplied.damaged, firstIndex: unapplied.firstIndex === undefined ? null : `${unapplied.firstIndex}`, lastIndex: unapplied.lastIndex === undefined ? null : `${unapplied.lastIndex}` }
        : null,
    });
    return;
  }
  const out = process.stdout;
  out.write(`rebuilt ${res.dataDir} from ${source} (as etcd ${target}'s snapshot restore writes it)\n`);
  out.write(`  member ${hex16(res.memberId)} (${o.name}) of cluster ${hex16(res.clusterId)}: ${res.plan.members.map((m) => `${m.name}=${hex16(m.id)}`).join(', ')}\n`);
  if (res.trailer) out.write(`  snapshot SHA-256 trailer: ${res.trailer.ok ? 'matches' : 'does not match (--skip-hash-check)'}\n`);
  if (consistentIndex !== undefined) out.write(`  the db had applied the log up to index ${consistentIndex}\n`);
  if (skipped > 0) out.write(`  ${skipped} damaged item(s) of the source db could not be copied (the rest was read by walking the tree, not the freelist)\n`);
  if (unapplied) {
    out.write(
      unapplied.entries === 0
        ? `  no WAL entry lies above the db's consistent index: nothing was left out (${unapplied.path} is empty)\n`
        : `  ${unapplied.entries} WAL entr${unapplied.entries === 1 ? 'y' : 'ies'} above it (index ${unapplied.firstIndex}..${unapplied.lastIndex}${unapplied.damaged ? `, ${unapplied.damaged} found past damage` : ''}) never reached the db: written to ${unapplied.path}\n`,
    );
  }
  for (const l of ids.lines) out.write(`  ${l}\n`);
  out.write(`  start etcd with: --name ${o.name} --data-dir ${res.dataDir} --initial-cluster ${o.initialCluster} --initial-advertise-peer-urls ${o.initialAdvertisePeerUrls}\n`);
}

/** What the new IDs are against the old ones, and what to pass to keep them or to leave localhost. */
function identity(plan: RestorePlan, old: OldIdentity, o: RebuildFlags, defaulted: readonly string[]): { lines: string[]; json: Record<string, unknown> } {
  const lines: string[] = [];
  const keep: KeepIdsFlags | undefined = flagsKeepingIds(old, o.initialClusterToken);
  const memberSame = old.memberId !== undefined && old.memberId === plan.local.id;
  const clusterSame = old.clusterId !== undefined && old.clusterId === plan.clusterId;
  const oldIdsText = old.memberId !== undefined ? `member ${hex16(old.memberId)} of cluster ${hex16(old.clusterId ?? 0n)}` : old.members.length ? `members ${old.members.map((m) => `${m.name ?? '?'}=${hex16(m.id)}`).join(', ')}` : undefined;
  if (memberSame && clusterSame) lines.push(`IDs kept: the source was the same member ${hex16(plan.local.id)} of cluster ${hex16(plan.clusterId)} (these flags are the ones it was bootstrapped with)`);
  else {
    lines.push(`NEW IDs: this is a new cluster${oldIdsText ? ` (the source was ${oldIdsText})` : ''}, as etcdutl snapshot restore makes it; clients and peers that knew the old IDs must be pointed at it`);
    if (keep) lines.push(`to keep the old IDs: ${flagLine(keep)}`);
    else if (old.members.length) lines.push(`the old IDs cannot be kept with restore flags (a member added with etcdctl member add has a time-derived ID, or the token is not etcd-cluster / ${o.initialClusterToken})`);
  }
  if (defaulted.length) {
    lines.push(
      `DEFAULT peer URL: ${defaulted.map((k) => FLAG_NAME[k as keyof typeof FLAG_NAME]).join(', ')} not given, so the member is '${plan.name}' on ${o.initialAdvertisePeerUrls} (etcdutl's defaults): only this host can reach it; pass --name, --initial-cluster and --initial-advertise-peer-urls with this node's real peer URL${keep ? ` (above: the old ones)` : ''}`,
    );
  }
  return {
    lines,
    json: {
      previous: { memberId: old.memberId === undefined ? null : hex16(old.memberId), clusterId: old.clusterId === undefined ? null : hex16(old.clusterId), members: old.members.map((m) => ({ name: m.name ?? null, id: hex16(m.id), peerUrls: m.peerUrls })) },
      idsChanged: !(memberSame && clusterSame),
      keepIdsFlags: keep ?? null,
      defaultedFlags: defaulted.map((k) => FLAG_NAME[k as keyof typeof FLAG_NAME]),
    },
  };
}

function flagLine(f: KeepIdsFlags): string {
  return `--name ${f.name} --initial-cluster ${f.initialCluster} --initial-advertise-peer-urls ${f.initialAdvertisePeerUrls}${f.initialClusterToken === 'etcd-cluster' ? '' : ` --initial-cluster-token ${f.initialClusterToken}`}`;
}

/** --dry-run: what would be written, with which IDs, and nothing written. */
function printPlan(plan: RestorePlan, o: RebuildFlags, source: string, target: string, consistentIndex: bigint | undefined, old: OldIdentity, defaulted: readonly string[], outDir: string): void {
  const ids = identity(plan, old, o, defaulted);
  if (o.json) {
    writeJson({ dryRun: true, dataDir: outDir, source, target, memberId: hex16(plan.local.id), clusterId: hex16(plan.clusterId), members: plan.members.map((m) => ({ name: m.name, id: hex16(m.id), peerUrls: m.peerUrls })), consistentIndex: consistentIndex === undefined ? null : `${consistentIndex}`, ...ids.json });
    return;
  }
  const out = process.stdout;
  out.write(`rebuild plan for ${outDir} (nothing written)\n`);
  out.write(`  from ${source}${consistentIndex !== undefined ? ` (applied the log up to index ${consistentIndex})` : ''}, as etcd ${target}'s snapshot restore writes it\n`);
  out.write(`  member ${hex16(plan.local.id)} (${plan.name}) of cluster ${hex16(plan.clusterId)}: ${plan.members.map((m) => `${m.name}=${hex16(m.id)} ${m.peerUrls.join(',')}`).join(', ')}\n`);
  for (const l of ids.lines) out.write(`  ${l}\n`);
}
