// What rebuild prints: the result, or with --dry-run the plan; each as text and as JSON. The new
// IDs are set against the source's, with the flags that keep the old ones when they can be kept.
import { hex16 } from '../../format/wal/names.js';
import type { RestorePlan, restoreFromFile } from '../../rebuild/restore.js';
import { type KeepIdsFlags, type OldIdentity, flagsKeepingIds } from '../../rebuild/old-identity.js';
import type { writeUnapplied } from '../../rebuild/salvage.js';

/** The restore flags the output repeats. */
export interface RestoreFlags {
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
}

/** How each restore flag is spelled on the command line. */
const FLAG_NAME: Record<'name' | 'initialCluster' | 'initialAdvertisePeerUrls' | 'initialClusterToken', string> = {
  name: '--name',
  initialCluster: '--initial-cluster',
  initialAdvertisePeerUrls: '--initial-advertise-peer-urls',
  initialClusterToken: '--initial-cluster-token',
};

export function renderRebuild(
  res: ReturnType<typeof restoreFromFile>,
  o: RestoreFlags,
  source: string,
  target: string,
  consistentIndex: bigint | undefined,
  unapplied: ReturnType<typeof writeUnapplied> | undefined,
  old: OldIdentity,
  defaulted: readonly string[],
  alarms: readonly string[] = [],
): { json: Record<string, unknown>; text: string } {
  const skipped = res.db.skippedCount ?? 0;
  const ids = identity(res.plan, old, o, defaulted);
  const json = {
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
      ? { path: unapplied.path, entries: unapplied.entries, damaged: unapplied.damaged, firstIndex: unapplied.firstIndex === undefined ? null : `${unapplied.firstIndex}`, lastIndex: unapplied.lastIndex === undefined ? null : `${unapplied.lastIndex}`, firstSegment: unapplied.firstSegment, segmentsSkipped: unapplied.segmentsSkipped }
      : null,
    alarms,
  };
  let out = '';
  out += `rebuilt ${res.dataDir} from ${source} (as etcd ${target}'s snapshot restore writes it)\n`;
  out += `  member ${hex16(res.memberId)} (${o.name}) of cluster ${hex16(res.clusterId)}: ${res.plan.members.map((m) => `${m.name}=${hex16(m.id)}`).join(', ')}\n`;
  if (res.trailer) out += `  snapshot SHA-256 trailer: ${res.trailer.ok ? 'matches' : 'does not match (--skip-hash-check)'}\n`;
  if (consistentIndex !== undefined) out += `  the db had applied the log up to index ${consistentIndex}\n`;
  if (skipped > 0) out += `  ${skipped} damaged item(s) of the source db could not be copied (the rest was read by walking the tree, not the freelist)\n`;
  if (unapplied) {
    out +=
      unapplied.entries === 0
        ? `  no WAL entry lies above the db's consistent index: nothing was left out (${unapplied.path} is empty)\n`
        : `  ${unapplied.entries} WAL entr${unapplied.entries === 1 ? 'y' : 'ies'} above it (index ${unapplied.firstIndex}..${unapplied.lastIndex}${unapplied.damaged ? `, ${unapplied.damaged} found past damage` : ''}) never reached the db: written to ${unapplied.path}\n`;
    if (unapplied.segmentsSkipped > 0) out += `  the WAL was read from ${unapplied.firstSegment}: the ${unapplied.segmentsSkipped} segment${unapplied.segmentsSkipped === 1 ? '' : 's'} before it hold${unapplied.segmentsSkipped === 1 ? 's' : ''} only entries the db had applied, and ${unapplied.segmentsSkipped === 1 ? 'was' : 'were'} not read\n`;
  }
  if (alarms.length > 0) out += `  the db keeps the ${alarms.join(' and ')} alarm raised (a restore copies it, as etcdutl's does): etcd will serve reads and refuse writes until it is disarmed (${alarms.includes('NOSPACE') ? 'free space first: etcdctl compact, etcdctl defrag; then ' : ''}etcdctl alarm disarm)\n`;
  for (const l of ids.lines) out += `  ${l}\n`;
  out += `  start etcd with: --name ${o.name} --data-dir ${res.dataDir} --initial-cluster ${o.initialCluster} --initial-advertise-peer-urls ${o.initialAdvertisePeerUrls}\n`;
  return { json, text: out };
}

/** What the new IDs are against the old ones, and what to pass to keep them or to leave localhost. */
function identity(plan: RestorePlan, old: OldIdentity, o: RestoreFlags, defaulted: readonly string[]): { lines: string[]; json: Record<string, unknown> } {
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
export function renderRebuildPlan(plan: RestorePlan, o: RestoreFlags, source: string, target: string, consistentIndex: bigint | undefined, old: OldIdentity, defaulted: readonly string[], outDir: string): { json: Record<string, unknown>; text: string } {
  const ids = identity(plan, old, o, defaulted);
  const json = { dryRun: true, dataDir: outDir, source, target, memberId: hex16(plan.local.id), clusterId: hex16(plan.clusterId), members: plan.members.map((m) => ({ name: m.name, id: hex16(m.id), peerUrls: m.peerUrls })), consistentIndex: consistentIndex === undefined ? null : `${consistentIndex}`, ...ids.json };
  let out = '';
  out += `rebuild plan for ${outDir} (nothing written)\n`;
  out += `  from ${source}${consistentIndex !== undefined ? ` (applied the log up to index ${consistentIndex})` : ''}, as etcd ${target}'s snapshot restore writes it\n`;
  out += `  member ${hex16(plan.local.id)} (${plan.name}) of cluster ${hex16(plan.clusterId)}: ${plan.members.map((m) => `${m.name}=${hex16(m.id)} ${m.peerUrls.join(',')}`).join(', ')}\n`;
  for (const l of ids.lines) out += `  ${l}\n`;
  return { json, text: out };
}
