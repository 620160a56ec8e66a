// The repair plan as the terminal shows it (what repair and --dry-run print), and the words of its
// reasons, refusals and warnings (for --json too); the plan itself is data, built by repair/plan.ts.
import type { ActionWhy, AppendSpec, Damage, DroppedEntries, PlanWarning, RefusalWhy, RepairAction, RepairPlan, UnappliedEntries } from '../../repair/plan.js';

const damaged = (d: Damage) => `the data after byte ${d.offset} is not a valid record (${d.ending})`;
const dropped = (l: DroppedEntries) => `${l.entries} entries${l.range ? ` (index ${l.range.first}..${l.range.last})` : ''} in ${l.records} valid record(s) after the damage`;
const unapplied = (u: UnappliedEntries) => {
  const one = u.indexes.length === 1;
  return `entr${one ? 'y' : 'ies'} ${u.indexes.join(', ')}, above the db's consistent index ${u.dbConsistentIndex ?? '-'}: etcd never applied ${one ? 'it' : 'them'}, and ${one ? 'its' : 'their'} content is unusable`;
};

/** Why an action is in the plan, in words (`reason` in --json). */
export function actionWords(w: ActionWhy): string {
  switch (w.code) {
    case 'leftover-temp':
      return 'leftover temporary file from an interrupted operation';
    case 'hidden-records':
      return `a zeroed length word hides ${w.records} valid record(s) (index ${w.firstIndex ?? '-'}..${w.lastIndex ?? '-'}); the record behind it is intact: ${w.recBytes} bytes + ${w.padBytes} padding, its CRC chains`;
    case 'keep-after-damage':
      return `${damaged(w.damage)}; the ${w.records} valid record(s) after it (bytes ${w.from ?? '-'}..${w.to ?? '-'}) are kept and re-chained${w.fill ? `, and indexes ${w.fill.first}..${w.fill.last} the damage destroyed become empty entries at term ${w.fill.term} (the db has applied up to ${w.fill.dbConsistentIndex}: their writes are there)` : ''}`;
    case 'rechain-after-damage':
      return "every record re-chained from the repaired segment before it (etcd's CRC covers all data since the log began)";
    case 'damaged-segment':
      return damaged(w.damage);
    case 'cut-at-damage':
      return `${damaged(w.damage)}; everything before it is intact`;
    case 'hidden-given-up':
      return `a zero length word at byte ${w.offset} hides ${w.records} record(s)${w.firstIndex !== null ? ` (index ${w.firstIndex}..${w.lastIndex})` : ''} that no length word brings back; with --allow-entry-loss they are cut from the log (the segment as it was stays in the backup)`;
    case 'after-damage':
      return `segment after the damage in ${w.damagedSegment}: its records cannot follow a broken chain`;
    case 'unappliable-entries':
      return `${w.entries.length} entr${w.entries.length === 1 ? 'y' : 'ies'} etcd ${w.etcdVersion} cannot apply (${w.entries.map((e) => `index ${e.index}: ${e.problem}`).join(', ')}) become empty entries at the same index and term; every later record is re-chained`;
    case 'more-unappliable-entries':
      return `${w.entries} more entries etcd ${w.etcdVersion} cannot apply become empty entries`;
    case 'rechain-after-substitute':
      return 'every record re-chained from the repaired segment before it';
    case 'broken-snap':
      return `broken .snap (${w.problem}); etcd would rename it .broken`;
    case 'db-unusable':
      return `etcd cannot use this db (${w.etcdError ?? 'damaged'}); the WAL holds every entry from index 1, so etcd rebuilds the keyspace by replaying it into a new db`;
    case 'snap-without-db':
      return 'with no db to match it, etcd must start from the beginning of the WAL, not from a snapshot';
    case 'snap-newer-than-db':
      return `.snap at index ${w.index} is newer than the db (consistent index ${w.dbConsistentIndex}) and its .snap.db is missing`;
    case 'empty-segment':
      return 'segment without a single record (not even the crc record that carries the chain)';
    case 'bridge-to-db':
      return `the db has applied up to ${w.dbConsistentIndex}: empty entries at term ${w.term} bring raft's log up to it, so new writes get indexes above the db's`;
    case 'commit-past-log':
      return `the last HardState commits index ${w.commit} but the log ends at ${w.lastIndex}: etcd would panic (state.commit out of range)`;
    case 'sequence-gap':
      return `sequence ${w.seq} follows ${w.after}: segments must be numbered one after another`;
    case 'starts-at':
      return `it now starts with index ${w.index}`;
  }
}

/** One reason to refuse, in words. */
export function refusalWords(w: RefusalWhy): string {
  switch (w.code) {
    case 'not-a-data-dir':
      return `repair works on a data dir (or its member/ dir); ${w.path} is a ${w.layoutKind}`;
    case 'etcd-running':
      return 'etcd is running on this dir: stop it first';
    case 'no-wal':
      return 'there is no WAL segment to repair: rebuild the data dir from its db (wal-doctor rebuild)';
    case 'two-histories':
      return `the db and the WAL tell two histories (${w.mismatches} key(s) differ): a repair would have to pick one, and it will not do that for you; see wal-doctor inspect`;
    case 'rewinds':
      return `the valid records after the damage go back to index ${w.keptFrom}, at or below the last entry before it (${w.lastBefore}): another writer's records are over this one's; a repair would have to pick one history, and it will not do that for you (see wal-doctor inspect)`;
    case 'first-segment-destroyed':
      return 'the first segment has no valid record: no log is left to keep; rebuild from the db (wal-doctor rebuild)';
    case 'entry-loss':
      return `the cut drops ${dropped(w.lost)}; pass --allow-entry-loss to accept that${w.committed ? ' (some were acknowledged as committed)' : ''}`;
    case 'replace-unapplied':
      return `replacing ${unapplied(w)}; pass --allow-entry-loss to accept that`;
    case 'replace-on-cluster':
      return `replacing entries is only safe on a single member; this one has ${w.members}: remove it from the cluster and add it back instead`;
    case 'snap-newer-than-db':
      return 'the snapshot etcd would load is newer than the db and no older snapshot matches: rebuild from the db (wal-doctor rebuild)';
    case 'db-ahead':
      return (
        `after the repair the log ends at index ${w.lastIndex} but the db has applied up to ${w.dbConsistentIndex}: etcd would not apply the entries it appends until their index passes ${w.dbConsistentIndex} (3.4/3.5 drop the client writes that land there; 3.6+ serve only after that). ` +
        (w.members <= 1
          ? `Single member: wal-doctor repair --bridge bridges the gap with empty entries; or rebuild from the db with wal-doctor rebuild.`
          : `This member is one of ${w.members}: remove it from the cluster and add it back (etcdctl member remove/add), or rebuild with wal-doctor rebuild.`)
      );
    case 'bridge-too-long':
      return `the gap between the log (index ${w.lastIndex}) and the db (${w.dbConsistentIndex}) is over ${w.maxEntries} entries: rebuild from the db instead (wal-doctor rebuild)`;
    case 'bridge-on-cluster':
      return `--bridge is only safe on a single-member cluster; this one has ${w.members.length} members (${w.members.join(', ')}, from ${w.memberSources.join(', ')}): remove this member and add it back instead`;
    case 'hidden-unrecoverable':
      return `a zero length word hides ${w.entries} entr${w.entries === 1 ? 'y' : 'ies'}${w.first !== null ? ` (index ${w.first}..${w.last})` : ''} that no length word brings back (the record behind it is destroyed, or their CRC chain cannot be checked): etcd would start without them; rebuild from the db (wal-doctor rebuild writes them to its unapplied file), or replay them by hand (wal-doctor export --include-damaged) and pass --allow-entry-loss`;
    case 'still-fails':
      return `etcd ${w.etcdVersion} would still not start (${w.etcdError}) and repairing the WAL cannot fix that: rebuild a data dir from the db (wal-doctor rebuild)`;
    case 'db-unusable-no-replay':
      return `etcd ${w.etcdVersion} cannot use the db and the WAL does not hold every entry from index 1 to replay: rebuild from the db (wal-doctor rebuild salvages what it can read)`;
    case 'never-serves':
      return `etcd ${w.etcdVersion} would start but never serve (${w.stall}): a repair of the files cannot change that; see wal-doctor inspect`;
    case 'auto-lossy':
      return '--auto applies only repairs that lose nothing etcd acknowledged as committed; this one would';
    case 'auto-bridge':
      return '--auto never bridges: run wal-doctor repair --bridge by hand after reading its plan';
  }
}

/** Every reason to refuse, in one line (`refusal.reason` in --json). */
export function refusalReason(r: NonNullable<RepairPlan['refusal']>): string {
  return r.reasons.map(refusalWords).join('; and ');
}

/** A warning, in words (a `note:` line; `warnings` in --json). */
export function warningWords(w: PlanWarning): string {
  switch (w.code) {
    case 'hidden-record-damaged':
      return `the record behind the zeroed length word in ${w.segment} at byte ${w.offset} is damaged too: it is treated as destroyed`;
    case 'destroyed-bridged':
      return `indexes ${w.first}..${w.last} become empty entries: the db (consistent index ${w.dbConsistentIndex}) already holds their writes`;
    case 'destroyed-unapplied':
      return `the damage destroyed index ${w.first}..${w.last}, above the db's consistent index ${w.dbConsistentIndex ?? '-'}: those writes never reached the db, and nothing after them can be replayed without them`;
    case 'no-fill-on-cluster':
      return `keeping the records after the damage would need empty entries at ${w.first}..${w.last}: never on a member of ${w.members} (the others hold the real entries)`;
    case 'bridge-would-keep':
      return `repair --bridge keeps the ${w.records} valid record(s) after the damage: indexes ${w.first}..${w.last} it destroyed become empty entries (the db already holds their writes)`;
    case 'dropping-entries':
      return `dropping ${dropped(w.lost)}; the segments that hold them are kept as they were in the backup (files/member/wal/): wal-doctor export --include-damaged on that copy lists the writes they carried`;
    case 'replacing-unapplied':
      return `replacing ${unapplied(w)}`;
    case 'replay-from-first-segment':
      return 'no older .snap matches the db: etcd will replay the WAL from its first segment, which must still exist';
    case 'bridged-to-db':
      return `bridged indexes ${w.first}..${w.dbConsistentIndex} with empty entries: the db already holds what they carried`;
    case 'lowered-commit':
      return `lowered the committed index from ${w.from} to ${w.to}`;
  }
}

/**
 * The plan as --json prints it (format /2): each action's `reason`, the refusal's `reason` and the
 * warnings in words, in the places the typed values hold in the plan.
 */
export function planJson(p: RepairPlan): Record<string, unknown> {
  const action = ({ why, ...rest }: RepairAction) => ({ ...rest, reason: actionWords(why) });
  return {
    ...p,
    format: 'wal-doctor-repair-plan/2',
    actions: p.actions.map(action),
    refusal: p.refusal ? { reason: refusalReason(p.refusal), exitCode: p.refusal.exitCode } : null,
    warnings: p.warnings.map(warningWords),
  };
}

/** A one-screen rendering of the plan (what --dry-run prints). */
export function describePlan(p: RepairPlan): string {
  let out = '';
  if (p.noop && p.alarms.length > 0) return `nothing to repair in the files of ${p.dataDir}: etcd will start, but the ${p.alarms.join(' and ')} alarm stays raised and it refuses writes until the alarm is disarmed (wal-doctor verify ${p.dataDir} says how)\n`;
  if (p.noop) return `nothing to repair in ${p.dataDir}: etcd will start as is\n`;
  if (p.actions.length === 0 && p.refusal) return `repair plan for ${p.dataDir}: none\n  REFUSED: ${refusalReason(p.refusal)}\n`;
  out += `repair plan for ${p.dataDir}\n`;
  const appended = (x: AppendSpec | null) => (x ? `; then${x.entries ? ` empty entries ${x.entries.firstIndex}..${x.entries.lastIndex} (term ${x.entries.term}) and` : ''} a HardState {term ${x.hardState.term}, commit ${x.hardState.commit}}` : '');
  for (const [i, a] of p.actions.entries()) {
    const n = `${i + 1}.`;
    switch (a.kind) {
      case 'truncate-segment':
        out += `  ${n} ${a.file}: keep bytes 0..${a.keepBytes - 1}, zero bytes ${a.keepBytes}..${a.zeroFillTo - 1} (${a.originalSize - a.keepBytes} bytes of damaged data go; the size stays ${a.zeroFillTo})\n     why: ${actionWords(a.why)}\n`;
        break;
      case 'set-aside':
        out += `  ${n} ${a.file}: move into the backup\n     why: ${actionWords(a.why)}\n`;
        break;
      case 'append-records':
        out += `  ${n} ${a.file}: append at byte ${a.atOffset}${a.entries ? ` empty entries ${a.entries.firstIndex}..${a.entries.lastIndex} (term ${a.entries.term}) and` : ''} a HardState {term ${a.hardState.term}, commit ${a.hardState.commit}}, zeros after\n     why: ${actionWords(a.why)}\n`;
        break;
      case 'rewrite-segment':
        out += `  ${n} ${a.file}: from byte ${a.from}, ${a.fill ? `empty entries ${a.fill.first}..${a.fill.last} (term ${a.fill.term}) in place of bytes ${a.from}..${a.resumeAt - 1}, then ` : ''}the records up to byte ${a.keepTo} re-chained${a.substitute.length ? `, entries ${a.substitute.map((x) => x.index).join(', ')} replaced by empty ones` : ''}${appended(a.append)}; zeros after\n     why: ${actionWords(a.why)}\n`;
        break;
      case 'rechain-segment':
        out += `  ${n} ${a.file}: every record re-chained${appended(a.append)}\n     why: ${actionWords(a.why)}\n`;
        break;
      case 'restore-length-word':
        out += `  ${n} ${a.file}: write the length word back at byte ${a.offset} (${a.recBytes} bytes + ${a.padBytes} padding)\n     why: ${actionWords(a.why)}\n`;
        break;
      case 'rename-segment':
        out += `  ${n} ${a.file}: rename to ${a.to.slice(a.to.lastIndexOf('/') + 1)}\n     why: ${actionWords(a.why)}\n`;
        break;
    }
  }
  const d = p.dropped;
  if (d.records > 0 || d.entries > 0) {
    out += `  entries dropped: ${d.entries}${d.firstIndex ? ` (index ${d.firstIndex}..${d.lastIndex})` : ''}, in ${d.records} record(s) after the damage\n`;
    if (d.keys.length) out += `  keys they touched (${d.keysTotal}): ${d.keys.slice(0, 8).join(', ')}${d.keysTotal > 8 ? ', ...' : ''}\n`;
  }
  if (p.bridged.entries > 0) out += `  entries bridged (empty; the db holds their writes): ${p.bridged.entries} (index ${p.bridged.firstIndex}..${p.bridged.lastIndex})\n`;
  out += `  afterwards: last index ${p.after.lastIndex ?? '-'}, commit ${p.after.commit ?? '-'}, term ${p.after.term ?? '-'}\n`;
  for (const w of p.warnings) out += `  note: ${warningWords(w)}\n`;
  if (p.refusal) out += `  REFUSED: ${refusalReason(p.refusal)}\n`;
  return out;
}
