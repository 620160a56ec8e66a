/**
 * From the analysis to a repair plan: pure, serialisable, and complete before anything is
 * written (pg_resetwal -n is the model: `--dry-run` prints exactly this). Every byte that goes and
 * every entry that is dropped is named here; `apply.ts` only carries it out.
 *
 * The one repair that is always safe is what etcd's own Repair does, done right: cut the WAL at
 * the first bad record. Anything that would lose more than a torn, never-acknowledged record
 * needs an explicit flag; a cut that leaves the log below the db's consistent index is refused
 * (etcd would silently skip new writes) unless --bridge closes the gap on a single member.
 */
import { relative } from 'node:path';
import type { Analysis } from '../inspect/analyze.js';
import { hex16 } from '../format/wal/names.js';
import type { RepairFacts } from './facts.js';
import { failureText } from '../inspect/etcd-texts.js';
import { MAX_BRIDGE_ENTRIES } from './records.js';

export interface RepairOptions {
  allowEntryLoss: boolean;
  bridge: boolean;
  /** Only repairs that lose nothing etcd acknowledged (for ExecStartPre / init containers). */
  auto: boolean;
}

export type RepairAction =
  | {
      kind: 'truncate-segment';
      file: string;
      /** Bytes kept: everything up to the end of the last good record. */
      keepBytes: number;
      originalSize: number;
      /** The file keeps this size, zeros after keepBytes: a clean end etcd appends to. */
      zeroFillTo: number;
      reason: string;
    }
  | { kind: 'set-aside'; file: string; reason: string }
  | {
      kind: 'append-records';
      file: string;
      atOffset: number;
      /** Running CRC at atOffset: the chain the new records continue. */
      crc: number;
      entries: { firstIndex: string; lastIndex: string; term: string } | null;
      hardState: { term: string; vote: string; commit: string };
      reason: string;
    };

export interface RepairPlan {
  format: 'wal-doctor-repair-plan/1';
  dataDir: string;
  /** Nothing to do: the dir is healthy (a second repair is a no-op). */
  noop: boolean;
  actions: RepairAction[];
  dropped: {
    records: number;
    entries: number;
    firstIndex: string | null;
    lastIndex: string | null;
    keys: string[];
    keysTotal: number;
  };
  /** True when nothing etcd had acknowledged as committed is lost. */
  lossless: boolean;
  /** Set when the plan must not be applied as asked; `exitCode` says why. */
  refusal: { reason: string; exitCode: 1 | 2 } | null;
  /** The log after the repair: what etcd will restart from. */
  after: { lastIndex: string | null; commit: string | null; term: string | null };
  warnings: string[];
}

export function planRepair(a: Analysis, facts: RepairFacts, opts: RepairOptions): RepairPlan {
  const { layout, wal, report } = a;
  const rel = (abs: string) => relative(layout.root, abs);
  const actions: RepairAction[] = [];
  const warnings: string[] = [];
  const plan: RepairPlan = {
    format: 'wal-doctor-repair-plan/1',
    dataDir: layout.root,
    noop: false,
    actions,
    dropped: {
      records: facts.dropped.records,
      entries: facts.dropped.entries,
      firstIndex: facts.dropped.firstIndex === undefined ? null : `${facts.dropped.firstIndex}`,
      lastIndex: facts.dropped.lastIndex === undefined ? null : `${facts.dropped.lastIndex}`,
      keys: facts.dropped.keys,
      keysTotal: facts.dropped.keysTotal,
    },
    lossless: true,
    refusal: null,
    after: { lastIndex: null, commit: null, term: null },
    warnings,
  };
  // Every reason not to apply is collected, so one dry run tells the operator all the flags it needs.
  const refuse = (reason: string, exitCode: 1 | 2 = 2) => {
    plan.refusal = plan.refusal
      ? { reason: `${plan.refusal.reason}; and ${reason}`, exitCode: plan.refusal.exitCode === 2 || exitCode === 2 ? 2 : 1 }
      : { reason, exitCode };
  };
  if (layout.kind !== 'data-dir' && layout.kind !== 'member-dir') {
    refuse(`repair works on a data dir (or its member/ dir); ${layout.root} is a ${layout.kind}`, 2);
    return plan;
  }
  if (!wal) {
    refuse('there is no WAL segment to repair: rebuild the data dir from its db (wal-doctor rebuild)', 2);
    return plan;
  }

  // 1. Leftovers of interrupted operations: moved to the backup (etcd ignores or deletes them,
  //    but a stale 0.tmp can carry old bytes into a future segment).
  for (const f of layout.files) {
    if (f.role === 'wal-tmp' || f.role === 'wal-tmp-dir' || f.role === 'db-tmp' || f.role === 'snap-tmp') {
      actions.push({ kind: 'set-aside', file: f.path, reason: 'leftover temporary file from an interrupted operation' });
    }
  }

  // 2. The WAL cut.
  const segs = wal.segments;
  const cut = facts.cut;
  let lastIndex: bigint | undefined;
  let crcAtEnd = 0;
  let endSeg = segs[segs.length - 1]!;
  let endOffset = endSeg.end.offset;
  if (cut) {
    const seg = segs[cut.segmentIndex]!;
    lastIndex = cut.lastIndex;
    const isLast = cut.segmentIndex === segs.length - 1;
    const size = seg.size;
    const why = `the data after byte ${cut.offset} is not a valid record (${report.wal?.segments[cut.segmentIndex]?.ending ?? seg.end.kind}); everything before it is intact`;
    if (cut.offset === 0) {
      // Nothing good in it, not even the crc record that carries the chain: the segment goes, and
      // the log ends where the previous one ends.
      const prev = segs[cut.segmentIndex - 1];
      if (!prev) {
        refuse('the first segment has no valid record: no log is left to keep; rebuild from the db (wal-doctor rebuild)', 2);
        return plan;
      }
      actions.push({ kind: 'set-aside', file: rel(seg.path), reason: why });
      endSeg = prev;
      endOffset = prev.end.offset;
      crcAtEnd = prev.crcOut;
    } else {
      endSeg = seg;
      endOffset = cut.offset;
      crcAtEnd = seg.crcOut;
      actions.push({ kind: 'truncate-segment', file: rel(seg.path), keepBytes: cut.offset, originalSize: size, zeroFillTo: Math.max(size, cut.offset + 8), reason: why });
    }
    for (const later of segs.slice(cut.segmentIndex + 1)) {
      actions.push({ kind: 'set-aside', file: rel(later.path), reason: `segment after the damage in ${seg.name}: its records cannot follow a broken chain` });
    }
    const d = facts.dropped;
    const ackCommit = wal.maxCommitSeen;
    const keptCommit = lastHardStateBefore(a, cut.segmentIndex)?.commit ?? 0n;
    // Entries lost that etcd had reported committed: any dropped entry at or below the highest commit seen.
    const lostCommitted = d.entries > 0 && d.firstIndex !== undefined && d.firstIndex <= (ackCommit > keptCommit ? ackCommit : keptCommit);
    const lostAny = d.entries > 0 || !isLast;
    if (lostAny) {
      plan.lossless = !lostCommitted;
      const what = `${d.entries} entries${d.firstIndex !== undefined ? ` (index ${d.firstIndex}..${d.lastIndex})` : ''} in ${d.records} valid record(s) after the damage`;
      if (!opts.allowEntryLoss) refuse(`the cut drops ${what}; pass --allow-entry-loss to accept that${lostCommitted ? ' (some were acknowledged as committed)' : ''}`, 1);
      else warnings.push(`dropping ${what}`);
    }
  } else {
    // Trailing segments without a single record (a 0-byte file) carry no chain to append to.
    let k = segs.length - 1;
    while (k > 0 && segs[k]!.records === 0) {
      actions.push({ kind: 'set-aside', file: rel(segs[k]!.path), reason: 'segment without a single record (not even the crc record that carries the chain)' });
      k--;
    }
    endSeg = segs[k]!;
    endOffset = endSeg.end.offset;
    lastIndex = lastEntryIndex(a);
    crcAtEnd = endSeg.crcOut;
  }

  // 3. .snap files: broken ones, and ones newer than the db when an older one matches.
  const snaps = report.snapFiles;
  const dbCi = report.db?.consistentIndex ? BigInt(report.db.consistentIndex) : undefined;
  for (const s of snaps) {
    if (s.status !== 'ok') actions.push({ kind: 'set-aside', file: `member/snap/${s.name}`, reason: `broken .snap (${s.error ?? s.status}); etcd would rename it .broken` });
  }
  const decider = a.predictions.find((e) => e.version === report.verdict.etcdVersion);
  const main = decider?.failure?.code === 'snap-db-missing' ? decider : undefined;
  if (main && dbCi !== undefined) {
    const olderOk = snaps.some((s) => s.status === 'ok' && s.matchesWalRecord && BigInt(s.index) <= dbCi);
    const newer = snaps.filter((s) => s.status === 'ok' && BigInt(s.index) > dbCi);
    if (olderOk || newer.length > 0) {
      for (const s of newer) actions.push({ kind: 'set-aside', file: `member/snap/${s.name}`, reason: `.snap at index ${s.index} is newer than the db (consistent index ${dbCi}) and its .snap.db is missing` });
      if (!olderOk) warnings.push('no older .snap matches the db: etcd will replay the WAL from its first segment, which must still exist');
    } else refuse('the snapshot etcd would load is newer than the db and no older snapshot matches: rebuild from the db (wal-doctor rebuild)');
  }

  // 4. The db ahead of the log: bridge or refuse.
  const hs = cut ? lastHardStateBefore(a, cut.segmentIndex) : lastHardStateBefore(a, segs.length - 1);
  const term = maxBig(hs?.term, lastEntryTerm(a, cut?.segmentIndex));
  let commit = hs?.commit;
  if (dbCi !== undefined && lastIndex !== undefined && dbCi > lastIndex) {
    if (!opts.bridge) {
      refuse(
        `after the cut the log ends at index ${lastIndex} but the db has applied up to ${dbCi}: etcd would start and silently skip new writes until their index passes ${dbCi}. ` +
          (facts.members.length > 1
            ? `This member is one of ${facts.members.length}: remove it from the cluster and add it back (etcdctl member remove/add), or rebuild with wal-doctor rebuild.`
            : `Single member: wal-doctor repair --bridge bridges the gap with empty entries; or rebuild from the db with wal-doctor rebuild.`),
        2,
      );
    } else if (dbCi - lastIndex > MAX_BRIDGE_ENTRIES) {
      refuse(`the gap between the log (index ${lastIndex}) and the db (${dbCi}) is over ${MAX_BRIDGE_ENTRIES} entries: rebuild from the db instead (wal-doctor rebuild)`, 2);
    } else if (facts.members.length > 1) {
      refuse(`--bridge is only safe on a single-member cluster; this one has ${facts.members.length} members (${facts.members.map(hex16).join(', ')}, from ${facts.memberSources.join(', ')}): remove this member and add it back instead`, 2);
    } else {
      const first = lastIndex + 1n;
      actions.push({
        kind: 'append-records',
        file: rel(endSeg.path),
        atOffset: endOffset,
        crc: crcAtEnd,
        entries: { firstIndex: `${first}`, lastIndex: `${dbCi}`, term: `${term}` },
        hardState: { term: `${term}`, vote: `${hs?.vote ?? 0n}`, commit: `${dbCi}` },
        reason: `the db has applied up to ${dbCi}: ${dbCi - lastIndex} empty entries at term ${term} bring raft's log up to it, so new writes get indexes above the db's`,
      });
      warnings.push(`bridged indexes ${first}..${dbCi} with empty entries: the db already holds what they carried`);
      if (facts.dropped.lastIndex !== undefined && facts.dropped.lastIndex <= dbCi && facts.dropped.entries > 0) {
        warnings.push(`every dropped entry (up to index ${facts.dropped.lastIndex}) was already applied to the db (consistent index ${dbCi}): their writes survive`);
      }
      lastIndex = dbCi;
      commit = dbCi;
    }
  } else if (commit !== undefined && lastIndex !== undefined && commit > lastIndex) {
    // 5. raft refuses a HardState committing entries the log no longer has.
    actions.push({
      kind: 'append-records',
      file: rel(endSeg.path),
      atOffset: endOffset,
      crc: crcAtEnd,
      entries: null,
      hardState: { term: `${term}`, vote: `${hs?.vote ?? 0n}`, commit: `${lastIndex}` },
      reason: `the last HardState commits index ${commit} but the log ends at ${lastIndex}: etcd would panic (state.commit out of range)`,
    });
    warnings.push(`lowered the committed index from ${commit} to ${lastIndex}`);
    commit = lastIndex;
  }

  // What cutting and setting aside cannot fix: etcd would still refuse the dir.
  const handledBySnapQuarantine = decider?.failure?.code === 'snap-db-missing';
  if (!cut && decider?.outcome === 'fails' && decider.failure && !handledBySnapQuarantine && !actions.some((x) => x.kind === 'append-records')) {
    refuse(`etcd ${decider.version} would still not start (${failureText(decider.failure, decider.version, a.layout.root).error}) and cutting the WAL cannot fix that: rebuild a data dir from the db (wal-doctor rebuild)`, 2);
  }

  if (opts.auto && !plan.lossless) refuse('--auto applies only repairs that lose nothing etcd acknowledged as committed; this one would', 1);
  if (opts.auto && plan.refusal === null && actions.some((x) => x.kind === 'append-records' && x.entries !== null)) {
    refuse('--auto never bridges: run wal-doctor repair --bridge by hand after reading its plan', 2);
  }

  plan.noop = actions.length === 0 && plan.refusal === null;
  plan.after = { lastIndex: lastIndex === undefined ? null : `${lastIndex}`, commit: commit === undefined ? null : `${commit}`, term: `${term}` };
  return plan;
}

function lastHardStateBefore(a: Analysis, segmentIndex: number) {
  const segs = a.wal!.segments;
  for (let i = segmentIndex; i >= 0; i--) {
    const hs = segs[i]!.lastHardState;
    if (hs) return hs;
  }
  return undefined;
}

function lastEntryIndex(a: Analysis): bigint | undefined {
  const segs = a.wal!.segments;
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i]!.lastEntry) return segs[i]!.lastEntry!.index;
  return undefined;
}

function lastEntryTerm(a: Analysis, upTo: number | undefined): bigint {
  const segs = a.wal!.segments;
  for (let i = upTo ?? segs.length - 1; i >= 0; i--) if (segs[i]!.lastEntry) return segs[i]!.lastEntry!.term;
  return 0n;
}

function maxBig(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b > a ? b : a;
}

/** A one-screen rendering of the plan (what --dry-run prints). */
export function describePlan(p: RepairPlan): string {
  let out = '';
  if (p.noop) return `nothing to repair in ${p.dataDir}: etcd will start as is\n`;
  if (p.actions.length === 0 && p.refusal) return `repair plan for ${p.dataDir}: none\n  REFUSED: ${p.refusal.reason}\n`;
  out += `repair plan for ${p.dataDir}\n`;
  for (const [i, a] of p.actions.entries()) {
    const n = `${i + 1}.`;
    switch (a.kind) {
      case 'truncate-segment':
        out += `  ${n} ${a.file}: keep bytes 0..${a.keepBytes - 1}, zero bytes ${a.keepBytes}..${a.zeroFillTo - 1} (${a.originalSize - a.keepBytes} bytes of damaged data go; the size stays ${a.zeroFillTo})\n     why: ${a.reason}\n`;
        break;
      case 'set-aside':
        out += `  ${n} ${a.file}: move into the backup\n     why: ${a.reason}\n`;
        break;
      case 'append-records':
        out += `  ${n} ${a.file}: append at byte ${a.atOffset}${a.entries ? ` empty entries ${a.entries.firstIndex}..${a.entries.lastIndex} (term ${a.entries.term}) and` : ''} a HardState {term ${a.hardState.term}, commit ${a.hardState.commit}}\n     why: ${a.reason}\n`;
        break;
    }
  }
  const d = p.dropped;
  if (d.records > 0 || d.entries > 0) {
    out += `  entries dropped: ${d.entries}${d.firstIndex ? ` (index ${d.firstIndex}..${d.lastIndex})` : ''}, in ${d.records} record(s) after the damage\n`;
    if (d.keys.length) out += `  keys they touched (${d.keysTotal}): ${d.keys.slice(0, 8).join(', ')}${d.keysTotal > 8 ? ', ...' : ''}\n`;
  }
  out += `  afterwards: last index ${p.after.lastIndex ?? '-'}, commit ${p.after.commit ?? '-'}, term ${p.after.term ?? '-'}\n`;
  for (const w of p.warnings) out += `  note: ${w}\n`;
  if (p.refusal) out += `  REFUSED: ${p.refusal.reason}\n`;
  return out;
}

