/**
 * The one analysis behind inspect, verify, export's header, repair's plan and the terminal UI:
 * layout → WAL walk → .snap checks → db meta → invariants between the three → what etcd will do →
 * verdict. Read-only: files are opened O_RDONLY and never locked.
 */
import { basename, relative } from 'node:path';
import { openBoltFile } from '../io/bolt-file.js';
import { FileSource } from '../io/file-source.js';
import { type Layout, locate } from '../io/layout.js';
import { IoError, fsError } from '../errors.js';
import { decodeRevision, readEtcdMeta, readMembers, snapshotStatus } from '../format/bbolt/etcd-meta.js';
import { checkSnapFile } from '../format/snap/snap.js';
import { hex16, parseSnapDbName, parseSnapName } from '../format/wal/names.js';
import { type SegmentEnd } from '../format/wal/decoder.js';
import { type BootInput, type BootPrediction, type DbFacts, type EtcdVersion, ETCD_VERSIONS, predictBoot } from './predict.js';
import type { Finding, Report, Segment } from './report.js';
import { REPORT_SCHEMA_VERSION } from './schema-version.js';
import { LEGACY_MAX_RECORD_BYTES } from '../format/wal/frame.js';
import { type SegmentInfo, type WalAnalysis, analyzeWal } from './wal-analysis.js';
import { twoWriterFindings } from './writers.js';
import { TOOL_VERSION } from '../version.js';

export interface InspectOptions {
  /** A WAL dir kept outside the data dir (etcd's --wal-dir). */
  walDir?: string;
  /** Which etcd release line decides the verdict; default: the one that wrote the dir, else 3.5. */
  etcdVersion?: EtcdVersion;
  /** Progress of the WAL walk, the long part of the analysis (for a progress bar). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/** .snap files are read whole (as etcd does); refuse absurd sizes rather than allocate them. */
const MAX_SNAP_BYTES = 1 << 30;

export interface Analysis {
  layout: Layout;
  wal: WalAnalysis | undefined;
  report: Report;
}

export function inspectPath(path: string, opts: InspectOptions = {}): Analysis {
  const layout = locate(path, opts.walDir === undefined ? {} : { walDir: opts.walDir });
  const rel = (abs: string) => relative(layout.root, abs) || basename(abs);
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);

  // --- WAL -------------------------------------------------------------------------------
  let wal: WalAnalysis | undefined;
  let twoWriters: Finding[] = [];
  if (layout.segments.length > 0) {
    const sources = layout.segments.map((p) => ({ name: basename(p), path: p, source: new FileSource(p) }));
    try {
      wal = analyzeWal(sources, opts.onProgress ? { onProgress: opts.onProgress } : {});
      twoWriters = twoWriterFindings(wal, sources, rel);
    } finally {
      for (const s of sources) s.source.close();
    }
  }

  // --- .snap files ----------------------------------------------------------------------
  const snapReports: Report['snapFiles'] = [];
  const snapFacts: BootInput['snapFiles'] = [];
  for (const p of layout.snapFiles) {
    const name = basename(p);
    const parsed = parseSnapName(name) ?? { term: 0n, index: 0n };
    let bytes: Uint8Array;
    let size: number;
    try {
      const src = new FileSource(p); // a regular file only: never blocks on a FIFO
      try {
        size = src.size;
        if (size > MAX_SNAP_BYTES) {
          snapReports.push({ name, term: `${parsed.term}`, index: `${parsed.index}`, size, status: 'too-large', error: `larger than ${MAX_SNAP_BYTES} bytes`, matchesWalRecord: false, voters: [] });
          continue;
        }
        bytes = src.read(0, size);
      } finally {
        src.close();
      }
    } catch (e) {
      throw e instanceof IoError ? e : fsError(e, p, 'reading the .snap file');
    }
    const c = checkSnapFile(bytes);
    const matches = wal?.snapshots.some((r) => r.index === parsed.index && r.term === parsed.term) ?? false;
    const error = c.ok ? null : c.code === 'snap-empty' ? `snap: empty snapshot (${c.reason})` : c.code === 'snap-crc-mismatch' ? `snap: crc mismatch (stored ${hexCrc(c.stored)}, computed ${hexCrc(c.computed)})` : c.error;
    snapReports.push({
      name,
      term: `${parsed.term}`,
      index: `${parsed.index}`,
      size,
      status: c.ok ? 'ok' : c.code,
      error,
      matchesWalRecord: matches,
      voters: c.ok ? c.snapshot.metadata.confState.voters.map(hex16) : [],
    });
    snapFacts.push({ name, term: parsed.term, index: parsed.index, valid: c.ok, error: error ?? undefined });
    if (!c.ok) {
      add({ code: 'snap-file-broken', severity: 'warning', file: rel(p), offset: 0, message: `${rel(p)}: ${error}; etcd renames it to ${name}.broken at boot and looks for an older snapshot`, found: error ?? '' });
    } else {
      const m = c.snapshot.metadata;
      if (m.index !== parsed.index || m.term !== parsed.term) {
        add({ code: 'snap-name-mismatch', severity: 'warning', file: rel(p), message: `${rel(p)}: the name says term ${parsed.term} index ${parsed.index} but the metadata inside says term ${m.term} index ${m.index}`, expected: `${parsed.term}-${parsed.index}`, found: `${m.term}-${m.index}` });
      }
      if (wal && !matches) {
        add({ code: 'snap-without-wal-record', severity: 'info', file: rel(p), message: `${rel(p)}: no WAL snapshot record has term ${parsed.term} index ${parsed.index}; etcd never loads it (a crash between writing the .snap and the WAL record leaves this)` });
      }
    }
  }

  // --- db -------------------------------------------------------------------------------
  let dbReport: Report['db'] = null;
  const dbFacts: DbFacts = { present: layout.db !== undefined, openError: undefined, consistentIndex: undefined, clusterVersion: undefined };
  // Membership: raft's own record (the WAL's conf changes and the newest .snap's conf state) wins;
  // the db's copy is used only without them (a 3.5 restore leaves the old meta/confState behind).
  const members = new Set<bigint>();
  const memberSources: string[] = [];
  const dbMembers = new Set<bigint>();
  const dbMemberSources: string[] = [];
  let dbTerm: bigint | undefined;
  let dbWriter: string | undefined;
  if (layout.db !== undefined) {
    const opened = openBoltFile(layout.db);
    try {
      const db = opened.db;
      if (db.meta === undefined) {
        dbFacts.openError = 'invalid database';
        add({ code: 'db-damaged', severity: 'error', file: rel(layout.db), offset: 0, message: `${rel(layout.db)}: neither bbolt meta page is valid (etcd panics: failed to open database)` });
        dbReport = { path: rel(layout.db), size: opened.file.size, consistentIndex: null, term: null, revision: null, compactRevision: null, clusterVersion: null, storageVersion: null, voters: [], snapshotSave: 'none', status: null, problems: db.findings.length };
      } else {
        const meta = readEtcdMeta(db);
        // The current revision is the last key of `key`: found by descending one path, not by
        // reading every revision (values of MBs live on overflow pages).
        const lastKey = db.lastItem('key');
        const lastRev = lastKey ? decodeRevision(lastKey.key) : undefined;
        if (meta.confState) {
          for (const v of [...meta.confState.voters, ...meta.confState.learners]) dbMembers.add(v);
          dbMemberSources.push('db meta/confState');
        }
        const mb = readMembers(db);
        if (mb.members.length > 0) {
          for (const x of mb.members) if (!mb.removed.includes(x.id)) dbMembers.add(x.id);
          dbMemberSources.push('db members bucket');
        }
        dbFacts.consistentIndex = meta.consistentIndex;
        dbFacts.clusterVersion = meta.clusterVersion;
        dbTerm = meta.term;
        dbWriter = meta.storageVersion !== undefined ? '3.6+' : meta.term !== undefined ? '3.5' : '3.4';
        const problems = db.findings.length + meta.findings.length;
        if (problems > 0) {
          const first = db.findings[0] ?? meta.findings[0];
          add({ code: 'db-damaged', severity: 'warning', file: rel(layout.db), offset: first?.offset ?? 0, message: `${rel(layout.db)}: ${problems} problem(s) in the bbolt file, first: ${first ? first.code : ''} at byte ${first?.offset ?? 0}`, details: { problems } });
        }
        const compact = [meta.finishedCompactRev, meta.scheduledCompactRev].filter((x): x is bigint => x !== undefined);
        dbReport = {
          path: rel(layout.db),
          size: opened.file.size,
          consistentIndex: meta.consistentIndex === undefined ? null : `${meta.consistentIndex}`,
          term: meta.term === undefined ? null : `${meta.term}`,
          revision: lastRev ? `${lastRev.main}` : null,
          compactRevision: compact.length ? `${compact.reduce((a, b) => (a > b ? a : b))}` : null,
          clusterVersion: meta.clusterVersion ?? null,
          storageVersion: meta.storageVersion ?? null,
          voters: (meta.confState?.voters ?? []).map(hex16),
          snapshotSave: opened.trailer ? (opened.trailer.ok ? 'sha256-ok' : 'sha256-mismatch') : 'none',
          status: null,
          problems,
        };
        // The status hash reads every key: only for a db or snapshot inspected on its own.
        if (layout.kind === 'db-file') {
          const st = snapshotStatus(db);
          dbReport.status = { hash: st.hash, revision: `${st.revision}`, totalKey: st.totalKey, totalSize: st.totalSize, integrityOk: st.integrityOk };
          if (!st.integrityOk) {
            const first = st.findings[0];
            dbReport.problems += st.findings.length;
            add({ code: 'db-damaged', severity: 'error', file: rel(layout.db), offset: first?.offset ?? 0, message: `${rel(layout.db)}: bbolt's integrity check finds ${st.findings.length} error(s) (etcdutl snapshot status would refuse this file), first: ${first?.code ?? '?'} at byte ${first?.offset ?? 0}`, found: first?.code ?? '' });
          }
        }
        if (opened.trailer && !opened.trailer.ok) {
          add({ code: 'db-damaged', severity: 'error', file: rel(layout.db), offset: opened.file.size - 32, message: `${rel(layout.db)}: the SHA-256 trailer of this snapshot file does not match its contents (stored ${opened.trailer.stored ?? '?'}, computed ${opened.trailer.computed ?? '?'})`, expected: opened.trailer.computed ?? '', found: opened.trailer.stored ?? '' });
        }
      }
    } finally {
      opened.close();
    }
  } else if (layout.kind === 'data-dir' || layout.kind === 'member-dir') {
    add({ code: 'db-missing', severity: 'error', file: 'member/snap/db', message: 'member/snap/db is missing: the v3 keyspace lives there; etcd can only rebuild it from a snapshot .snap.db' });
  }

  // --- layout leftovers ---------------------------------------------------------------------
  for (const f of layout.files) {
    if (f.role === 'wal-tmp' || f.role === 'wal-tmp-dir' || f.role === 'db-tmp' || f.role === 'snap-tmp') {
      add({ code: 'leftover-tmp', severity: 'info', file: f.path, message: `${f.path}: leftover temporary ${f.isDir ? 'directory' : 'file'} (${f.size} bytes) from an interrupted operation; etcd ignores or deletes it` });
    } else if (f.role === 'wal-broken' || f.role === 'snap-broken' || f.role === 'wal-broken-dir') {
      add({ code: 'broken-copy', severity: 'info', file: f.path, message: `${f.path}: a copy etcd set aside after finding damage (it never reads or deletes it); keep it until the cluster is healthy` });
    } else if (f.role === 'unknown') {
      add({ code: 'unknown-file', severity: 'info', file: f.path, message: `${f.path}: not a file etcd writes here` });
    } else if (f.role === 'not-regular') {
      const n = layout.notRegular.find((x) => x.path === f.path);
      add({ code: 'unknown-file', severity: 'error', file: f.path, message: `${f.path}: is ${n?.is ?? 'not a regular file'} where etcd keeps ${n?.expected ?? 'a file'}; not read (etcd fails or hangs opening it): move it away`, expected: 'a regular file', found: n?.is ?? 'not a regular file' });
    }
  }

  // --- WAL findings ---------------------------------------------------------------------------
  if (wal) {
    walFindings(wal, rel, add);
    for (const f of twoWriters) add(f);
  } else if (layout.kind === 'data-dir' || layout.kind === 'member-dir') {
    add({ code: 'no-wal', severity: 'error', file: 'member/wal', message: 'no *.wal segment: etcd would start a brand-new empty member on this dir' });
  }

  const newestSnap = [...snapReports].reverse().find((x) => x.status === 'ok' && x.voters.length > 0);
  if (newestSnap) {
    for (const v of newestSnap.voters) members.add(BigInt('0x' + v));
    memberSources.push(`${newestSnap.name} conf state`);
  }
  if (wal && wal.confChanges.length > 0) {
    for (const c of wal.confChanges) {
      if (newestSnap && c.index <= BigInt(newestSnap.index)) continue;
      if (c.type === 0 || c.type === 3) members.add(c.nodeId);
      else if (c.type === 1) members.delete(c.nodeId);
    }
    memberSources.push('WAL conf changes');
  }
  if (members.size === 0) {
    for (const v of dbMembers) members.add(v);
    memberSources.push(...dbMemberSources);
  }

  // --- predictions ---------------------------------------------------------------------------
  const predictions: BootPrediction[] = [];
  const isDir = layout.kind === 'data-dir' || layout.kind === 'member-dir' || layout.kind === 'wal-dir';
  if (wal && isDir) {
    const input: BootInput = {
      wal,
      snapFiles: snapFacts,
      snapDbIndexes: layout.files.map((f) => parseSnapDbName(basename(f.path))).filter((x): x is bigint => x !== undefined),
      db: layout.kind === 'wal-dir' ? { present: true, openError: undefined, consistentIndex: undefined, clusterVersion: undefined } : dbFacts,
    };
    for (const v of ETCD_VERSIONS) predictions.push(predictBoot(input, v));
  }

  // --- who wrote it ----------------------------------------------------------------------------
  const evidence: string[] = [];
  let writer = 'unknown';
  if (dbWriter) {
    writer = dbWriter;
    evidence.push(dbWriter === '3.6+' ? 'db meta/storageVersion present' : dbWriter === '3.5' ? 'db meta/term present (3.5+), no storageVersion' : 'db has no meta/term (3.4 or older)');
  }
  if (dbFacts.clusterVersion) evidence.push(`cluster version ${dbFacts.clusterVersion}`);
  if (wal) {
    const withCs = wal.snapshots.filter((r) => r.index > 0n);
    if (withCs.length > 0) {
      const cs = withCs.every((r) => r.hasConfState);
      evidence.push(cs ? 'WAL snapshot records carry conf_state (3.5+)' : 'WAL snapshot records without conf_state (3.4)');
      if (writer === 'unknown') writer = cs ? '3.5+' : '3.4';
    }
  }
  const decidingVersion: EtcdVersion = opts.etcdVersion ?? (writer.startsWith('3.4') ? '3.4' : writer.startsWith('3.6') ? '3.6' : '3.5');

  // --- invariants ------------------------------------------------------------------------------
  const wr = wal ? walSummary(wal, rel) : null;
  const main = predictions.find((p) => p.version === decidingVersion);
  if (wal && dbFacts.consistentIndex !== undefined && wr?.hardState) {
    const commit = BigInt(wr.hardState.commit);
    if (dbFacts.consistentIndex > commit) {
      add({ code: 'db-index-above-commit', severity: 'warning', file: dbReport?.path ?? 'member/snap/db', message: `db consistent index ${dbFacts.consistentIndex} is above the last HardState commit ${commit} in the WAL (commit-only HardStates are not always synced; the WAL may also have lost its tail)`, expected: `<= ${commit}`, found: `${dbFacts.consistentIndex}` });
    }
    if (dbTerm !== undefined && dbTerm > BigInt(wr.hardState.term)) {
      add({ code: 'db-term-ahead', severity: 'warning', file: dbReport?.path ?? 'member/snap/db', message: `db term ${dbTerm} is above the WAL's last term ${wr.hardState.term}`, expected: `<= ${wr.hardState.term}`, found: `${dbTerm}` });
    }
  }
  if (main?.snapshot && dbFacts.consistentIndex !== undefined && dbFacts.consistentIndex !== 0n && dbFacts.consistentIndex < main.snapshot.index) {
    add({ code: 'db-behind-snapshot', severity: 'error', file: dbReport?.path ?? 'member/snap/db', message: `db consistent index ${dbFacts.consistentIndex} is below the snapshot etcd will load (${main.snapshot.name}, index ${main.snapshot.index})`, expected: `>= ${main.snapshot.index}`, found: `${dbFacts.consistentIndex}` });
  }
  for (const p of predictions) {
    if (p.version !== decidingVersion) continue;
    for (const h of p.hazards) {
      if (h.code === 'db-ahead-of-wal') {
        add({ code: 'db-ahead-of-wal', severity: 'error', file: dbReport?.path ?? 'member/snap/db', message: `the db has applied up to raft index ${h.consistentIndex} but the usable WAL ends at ${h.lastIndex}: etcd ${p.version} would start, then silently skip new writes until their index passes ${h.consistentIndex} (clients get success, the data is gone)`, expected: `consistent index <= ${h.lastIndex}`, found: `${h.consistentIndex}` });
      } else {
        add({ code: 'etcd-repair-drops-valid-records', severity: 'error', file: p.repair ? relSegment(wal!, p.repair.segment, rel) : undefined, offset: p.repair?.truncateAt, message: `etcd ${p.version}'s own repair would truncate ${p.repair?.segment} at byte ${p.repair?.truncateAt} and throw away ${h.records} valid record(s) after the damage (${h.entries} entries${h.first !== undefined ? `, index ${h.first}..${h.last}` : ''}): do not let etcd repair this by itself` });
      }
    }
    if (p.outcome === 'fails') {
      add({ code: 'etcd-will-fail', severity: 'error', message: `etcd ${p.version} will not start: ${p.error}${p.log ? ` (log: ${p.log})` : ''}`, found: p.error ?? '' });
    }
    if (p.commit !== undefined && p.lastIndex !== undefined && p.commit > p.lastIndex) {
      add({ code: 'commit-beyond-last-index', severity: 'error', message: `the last HardState commits index ${p.commit} but the usable log ends at ${p.lastIndex}`, expected: `<= ${p.lastIndex}`, found: `${p.commit}` });
    }
  }

  if (wal && dbFacts.consistentIndex !== undefined && !findings.some((f) => f.code === 'db-ahead-of-wal')) {
    const cut = truncationPoint(wal);
    if (cut.damaged && cut.lastIndex !== undefined && dbFacts.consistentIndex > cut.lastIndex) {
      add({ code: 'db-ahead-of-wal', severity: 'error', file: dbReport?.path ?? 'member/snap/db', message: `the db has applied up to raft index ${dbFacts.consistentIndex} but the WAL is good only up to index ${cut.lastIndex}: cut there, etcd would start and then silently skip new writes until their index passes ${dbFacts.consistentIndex}`, expected: `consistent index <= ${cut.lastIndex}`, found: `${dbFacts.consistentIndex}` });
    }
  }
  const verdict = { etcdVersion: decidingVersion, ...decideVerdict(layout, wal, main, findings, dbReport, members.size) };
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'wal-doctor', version: TOOL_VERSION },
    path: layout.root,
    kind: layout.kind,
    layout: layout.files,
    writtenBy: { version: writer, evidence },
    cluster: { members: [...members].sort((x, y) => (x < y ? -1 : 1)).map(hex16), sources: memberSources },
    wal: wr,
    snapFiles: snapReports,
    db: dbReport,
    etcd: predictions.map((p) => ({
      version: p.version,
      detail: p.detail,
      outcome: p.outcome,
      error: p.error ?? null,
      log: p.log ?? null,
      repair: p.repair
        ? {
            segment: p.repair.segment,
            truncateAt: p.repair.truncateAt,
            brokenCopy: p.repair.brokenCopy,
            validRecordsDropped: p.repair.validRecordsDropped,
            entriesDropped: p.repair.entriesDropped,
            firstDroppedIndex: p.repair.firstDroppedIndex === undefined ? null : `${p.repair.firstDroppedIndex}`,
            lastDroppedIndex: p.repair.lastDroppedIndex === undefined ? null : `${p.repair.lastDroppedIndex}`,
          }
        : null,
      snapshot: p.snapshot ? { term: `${p.snapshot.term}`, index: `${p.snapshot.index}`, name: p.snapshot.name } : null,
      snapsRenamedBroken: p.snapsRenamedBroken,
      lastIndex: p.lastIndex === undefined ? null : `${p.lastIndex}`,
      commit: p.commit === undefined ? null : `${p.commit}`,
    })),
    findings,
    verdict,
  };
  return { layout, wal, report };
}

function relSegment(wal: WalAnalysis, name: string, rel: (abs: string) => string): string {
  const s = wal.segments.find((x) => x.name === name);
  return s ? rel(s.path) : name;
}

function hexCrc(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** How a segment ends, in the report's words. */
export function endingOf(seg: SegmentInfo, isLast: boolean): Segment['ending'] {
  const e = seg.end;
  switch (e.kind) {
    case 'eof':
      return 'exact';
    case 'zero-length':
      return e.nonZeroAfter === undefined ? 'zero-filled' : 'garbage-after-end';
    case 'short-length-word':
      return 'truncated-record';
    case 'oversized':
      if (!e.frame.wellFormed) return 'garbage';
      return e.frame.recBytes < LEGACY_MAX_RECORD_BYTES ? 'truncated-record' : 'oversized-length';
    case 'decode-error':
      return isLast && e.zeroSector ? 'torn-write' : 'garbage';
    case 'crc-mismatch':
      return isLast && e.zeroSector ? 'torn-write' : 'crc-mismatch';
    case 'crc-link-mismatch':
      return 'crc-chain-broken';
  }
}

function walSummary(wal: WalAnalysis, rel: (abs: string) => string): NonNullable<Report['wal']> {
  let count = 0;
  let firstIndex: bigint | undefined;
  let last: { index: bigint; term: bigint } | undefined;
  let hs: (typeof wal.segments)[number]['lastHardState'];
  let hsSeg: SegmentInfo | undefined;
  let goodUntil: { segment: string; offset: number } | null = null;
  for (const s of wal.segments) {
    if (goodUntil) break;
    count += s.counts.entry;
    if (s.firstEntry && firstIndex === undefined) firstIndex = s.firstEntry.index;
    if (s.lastEntry) last = s.lastEntry;
    if (s.lastHardState) {
      hs = s.lastHardState;
      hsSeg = s;
    }
    if (s.end.kind !== 'eof' && s.end.kind !== 'zero-length') goodUntil = { segment: rel(s.path), offset: s.end.offset };
  }
  const n = wal.segments.length;
  return {
    segments: wal.segments.map((s, i) => ({
      name: s.name,
      seq: s.parsed ? `${s.parsed.seq}` : null,
      startIndex: s.parsed ? `${s.parsed.index}` : null,
      size: s.size,
      records: s.counts,
      firstEntry: s.firstEntry ? { index: `${s.firstEntry.index}`, term: `${s.firstEntry.term}` } : null,
      lastEntry: s.lastEntry ? { index: `${s.lastEntry.index}`, term: `${s.lastEntry.term}` } : null,
      crcChain: s.end.kind === 'crc-link-mismatch' && s.end.recordNo === 0 ? 'broken' : s.first?.type === 4 ? (s.first.link ?? 'unchecked') : 'not-reached',
      goodBytes: s.end.offset,
      end: s.end.kind,
      ending: endingOf(s, i === n - 1),
      salvage: {
        records: s.salvage.records,
        chained: s.salvage.chained,
        entries: s.salvage.entries,
        firstIndex: s.salvage.firstIndex === undefined ? null : `${s.salvage.firstIndex}`,
        lastIndex: s.salvage.lastIndex === undefined ? null : `${s.salvage.lastIndex}`,
      },
    })),
    memberId: wal.metadata ? hex16(wal.metadata.nodeId) : null,
    clusterId: wal.metadata ? hex16(wal.metadata.clusterId) : null,
    hardState: hs && hsSeg ? { term: `${hs.term}`, vote: `${hs.vote}`, vote_hex: hex16(hs.vote), commit: `${hs.commit}`, segment: hsSeg.name, offset: hs.offset } : null,
    entries: { count, firstIndex: firstIndex === undefined ? null : `${firstIndex}`, lastIndex: last ? `${last.index}` : null, lastTerm: last ? `${last.term}` : null },
    snapshotRecords: wal.snapshots.map((r) => ({ index: `${r.index}`, term: `${r.term}`, confState: r.hasConfState, segment: wal.segments[r.segment]?.name ?? '', offset: r.offset })),
    goodUntil,
  };
}

function endFinding(seg: SegmentInfo, isLast: boolean, file: string): Finding | undefined {
  const e: SegmentEnd = seg.end;
  const where = `${file} at byte ${e.offset}`;
  switch (e.kind) {
    case 'eof':
      return undefined;
    case 'zero-length':
      if (e.nonZeroAfter === undefined) return undefined;
      if (seg.salvage.chained > 0) {
        return { code: 'records-hidden-after-zero-length', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where}: a zero length word ends the data, but ${seg.salvage.records} record(s) follow (first at byte ${seg.salvage.firstOffset}); etcd silently skips them`, expected: 'zeros after the end marker', found: `non-zero bytes at byte ${e.nonZeroAfter}` };
      }
      return { code: 'garbage-after-end', severity: isLast ? 'info' : 'warning', file, offset: e.nonZeroAfter, recordNo: seg.records, message: `${file}: non-zero bytes at byte ${e.nonZeroAfter}, after the end of the log at byte ${e.offset}; etcd ignores them${isLast ? ' and zero-fills them on its next start' : ''}`, expected: '0x00', found: 'non-zero bytes' };
    case 'short-length-word':
      return { code: 'truncated-length-word', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where} (record ${seg.records}): file ends ${e.available} byte(s) into an 8-byte length word`, expected: '8 bytes', found: `${e.available} bytes` };
    case 'oversized': {
      const word = `0x${e.frame.word.toString(16).padStart(16, '0')}`;
      if (e.frame.wellFormed && e.frame.recBytes < LEGACY_MAX_RECORD_BYTES) {
        return { code: isLast ? 'torn-tail' : 'truncated-record', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where} (record ${seg.records}): the file ends inside this record: it needs ${e.frame.recBytes} bytes + ${e.frame.padBytes} padding, only ${e.available} remain${isLast ? ' (a write cut short, as by a power loss)' : ''}`, expected: `${e.frame.recBytes + e.frame.padBytes} bytes`, found: `${e.available} bytes` };
      }
      return { code: 'oversized-length', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where} (record ${seg.records}): length word ${word} claims ${e.frame.recBytes} bytes + ${e.frame.padBytes} padding but only ${e.available} bytes remain${e.frame.wellFormed ? '' : ' (not a length etcd writes: garbage)'}`, expected: `<= ${e.available} bytes`, found: `${e.frame.recBytes} bytes` };
    }
    case 'decode-error':
      if (e.frame.recBytes >= LEGACY_MAX_RECORD_BYTES) {
        return { code: 'oversized-length', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): length word claims ${e.frame.recBytes} bytes, over the 10 MiB etcd 3.4 accepts, and what follows does not decode${e.zeroSector ? ' (zeros: a torn write)' : ''}`, expected: `< ${LEGACY_MAX_RECORD_BYTES} bytes`, found: `${e.frame.recBytes} bytes` };
      }
      if (isLast && e.zeroSector) {
        const inside = seg.salvage.chained > 0 ? `; but valid records follow, so this is zeroed data inside the log, not a write cut short` : '';
        return { code: 'torn-tail', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): torn write by etcd's rule — the record does not decode and a 512-byte sector of it is all zeros${inside}`, expected: 'a walpb.Record', found: 'a partly written record' };
      }
      return { code: 'record-decode-error', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): ${e.frame.recBytes}-byte record does not decode (${e.failure.kind} at byte ${e.failure.at} of the record)`, expected: 'a walpb.Record', found: e.failure.kind };
    case 'crc-mismatch':
      if (isLast && e.zeroSector) {
        const inside = seg.salvage.chained > 0 ? `; but valid records follow, so this is zeroed data inside the log, not a write cut short` : '';
        return { code: 'torn-tail', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): torn write by etcd's rule — crc ${hexCrc(e.computed)} computed, ${hexCrc(e.stored)} stored, and a 512-byte sector of the record is all zeros${inside}`, expected: hexCrc(e.stored), found: hexCrc(e.computed) };
      }
      return { code: 'crc-mismatch', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): crc mismatch, expected ${hexCrc(e.stored)} computed ${hexCrc(e.computed)}`, expected: hexCrc(e.stored), found: hexCrc(e.computed) };
    case 'crc-link-mismatch':
      return { code: 'crc-chain-broken', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): crc record holds ${hexCrc(e.stored)} but the chain from the previous segment ends at ${hexCrc(e.running)}`, expected: hexCrc(e.running), found: hexCrc(e.stored) };
  }
}

function walFindings(wal: WalAnalysis, rel: (abs: string) => string, add: (f: Finding) => void): void {
  const n = wal.segments.length;
  let prevSeq: bigint | undefined;
  for (const [i, s] of wal.segments.entries()) {
    const file = rel(s.path);
    if (s.size === 0) add({ code: 'empty-segment', severity: 'error', file, offset: 0, message: `${file}: 0 bytes (a segment always starts with a crc record)`, expected: 'a crc record', found: '0 bytes' });
    const f = endFinding(s, i === n - 1, file);
    if (f) add(f);
    const damaged = s.end.kind !== 'eof' && s.end.kind !== 'zero-length';
    if (damaged && s.salvage.chained > 0) {
      add({ code: 'valid-records-after-damage', severity: 'warning', file, offset: s.salvage.firstOffset, message: `${file}: ${s.salvage.chained} record(s) after the damage at byte ${s.end.offset} still carry a valid CRC chain (${s.salvage.entries} entries${s.salvage.firstIndex !== undefined ? `, index ${s.salvage.firstIndex}..${s.salvage.lastIndex}` : ''}); truncating there loses them`, details: { records: s.salvage.chained, entries: s.salvage.entries } });
    }
    if (s.parsed) {
      if (prevSeq !== undefined && s.parsed.seq !== prevSeq + 1n) {
        add({ code: 'segment-seq-gap', severity: 'error', file, message: `${file}: sequence ${s.parsed.seq} follows ${prevSeq}; segment(s) in between are missing`, expected: `${prevSeq + 1n}`, found: `${s.parsed.seq}` });
      }
      prevSeq = s.parsed.seq;
      if (s.firstEntry && s.firstEntry.index < s.parsed.index) {
        add({ code: 'segment-name-index-mismatch', severity: 'info', file, message: `${file}: named for index ${s.parsed.index} but its first entry is ${s.firstEntry.index} (entries were overwritten by a new leader)` });
      }
    }
  }
  if (!wal.metadata) add({ code: 'no-metadata', severity: 'error', message: 'no metadata record: member and cluster IDs are unknown' });
  for (const m of wal.metadataConflicts.slice(0, 10)) {
    const s = wal.segments[m.segment]!;
    add({ code: 'metadata-conflict', severity: 'error', file: rel(s.path), offset: m.offset, message: `${rel(s.path)} at byte ${m.offset}: metadata says member ${hex16(m.nodeId)} cluster ${hex16(m.clusterId)}, the first said ${hex16(wal.metadata!.nodeId)} ${hex16(wal.metadata!.clusterId)} (etcd: wal: conflicting metadata found)`, expected: hex16(wal.metadata!.nodeId), found: hex16(m.nodeId) });
  }
  for (const g of wal.gaps.slice(0, 10)) {
    const s = wal.segments[g.segment]!;
    add({ code: 'entry-index-gap', severity: 'error', file: rel(s.path), offset: g.offset, message: `${rel(s.path)} at byte ${g.offset}: entry ${g.index} follows entry ${g.prevIndex}`, expected: `${g.prevIndex + 1n}`, found: `${g.index}` });
  }
  for (const o of wal.overwrites.slice(0, 10)) {
    const s = wal.segments[o.segment]!;
    add({ code: 'log-overwrite', severity: 'info', file: rel(s.path), offset: o.offset, message: `${rel(s.path)} at byte ${o.offset}: entry ${o.index} (term ${o.term}) replaces the log after ${o.prevLastIndex} (term ${o.prevLastTerm}): a new leader overwrote uncommitted entries` });
  }
  for (const t of wal.termRegressions.slice(0, 10)) {
    const s = wal.segments[t.segment]!;
    add({ code: 'term-regression', severity: 'warning', file: rel(s.path), offset: t.offset, message: `${rel(s.path)} at byte ${t.offset}: entry ${t.index} has term ${t.term}, below the previous term ${t.prevTerm}`, expected: `>= ${t.prevTerm}`, found: `${t.term}` });
  }
  for (const u of wal.unknownTypes.slice(0, 10)) {
    const s = wal.segments[u.segment]!;
    add({ code: 'unknown-record-type', severity: 'error', file: rel(s.path), offset: u.offset, message: `${rel(s.path)} at byte ${u.offset}: record type ${u.type} (etcd: unexpected block type ${u.type})`, expected: '1..5', found: `${u.type}` });
  }
  for (const u of wal.undecodable.slice(0, 10)) {
    const s = wal.segments[u.segment]!;
    add({ code: 'undecodable-payload', severity: 'error', file: rel(s.path), offset: u.offset, message: `${rel(s.path)} at byte ${u.offset}: the CRC matches but the payload of this type-${u.type} record does not decode: ${u.error}`, found: u.error });
  }
}

function decideVerdict(layout: Layout, wal: WalAnalysis | undefined, main: BootPrediction | undefined, findings: Finding[], db: Report['db'], memberCount: number): Omit<Report['verdict'], 'etcdVersion'> {
  const dir = layout.root;
  const errors = findings.filter((f) => f.severity === 'error');
  if (!wal && (layout.kind === 'data-dir' || layout.kind === 'member-dir')) {
    return {
      status: 'needs-rebuild',
      exitCode: 2,
      headline: 'no WAL segment: etcd would start a brand-new, empty member on this dir',
      nextStep: `if etcd runs with --wal-dir, pass the same: wal-doctor inspect --wal-dir <dir> ${dir}; otherwise rebuild from the db: wal-doctor rebuild --from ${dir} --out <new-dir>`,
    };
  }
  if (!wal || layout.kind === 'snap-file' || layout.kind === 'db-file' || layout.kind === 'wal-file') {
    const problems = findings.filter((f) => f.severity !== 'info');
    if (problems.length === 0) return { status: 'healthy', exitCode: 0, headline: 'no damage found in this file', nextStep: 'nothing to do' };
    return { status: 'repairable', exitCode: 1, headline: problems[0]!.message + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), nextStep: `judge the whole data dir: wal-doctor inspect <data-dir>` };
  }
  const dbAhead = findings.some((f) => f.code === 'db-ahead-of-wal');
  const cut = truncationPoint(wal);
  const firstDamaged = cut.damaged;
  const truncLast = cut.lastIndex;
  const lastSeg = wal.segments[wal.segments.length - 1]!;

  if (main?.outcome === 'fails' && main.error && /state\.commit \d+ is out of range/.test(main.error) && !firstDamaged) {
    return { status: 'repairable', exitCode: 1, headline: `etcd ${main.version} will not start: ${main.error}`, nextStep: `wal-doctor repair ${dir}  (appends a HardState that commits only what the log holds)` };
  }
  if (main?.outcome === 'fails' && main.error && /file not found|snapshot not found|snapshot mismatch|slice bounds out of range|missing|invalid database|failed to open database|downgrade/.test(main.error) && !firstDamaged) {
    return { status: 'needs-rebuild', exitCode: 2, headline: `etcd ${main.version} will not start: ${main.error}`, nextStep: `rebuild a data dir from the db: wal-doctor rebuild --from ${dir} --out <new-dir> (see wal-doctor rebuild --help)` };
  }
  if (dbAhead) {
    const where = firstDamaged ? `WAL damaged at ${relative(layout.root, firstDamaged.path)} byte ${firstDamaged.end.offset}; ` : '';
    return { status: 'needs-rebuild', exitCode: 2, headline: `${where}the usable log ends at index ${truncLast ?? main?.lastIndex} but the db has applied up to ${db?.consistentIndex}: truncating alone would lose writes`, nextStep:
        memberCount > 1
          ? `this member is one of ${memberCount}: remove it from the cluster and add it back (etcdctl member remove/add) so it syncs from the leader; or rebuild: wal-doctor rebuild --from ${dir} --out <new-dir>`
          : `wal-doctor repair --allow-entry-loss --bridge ${dir} (single member: keeps everything the db holds); or rebuild from the db: wal-doctor rebuild --from ${dir} --out <new-dir>` };
  }
  if (firstDamaged) {
    const isLast = firstDamaged === lastSeg;
    const lost = firstDamaged.salvage.chained > 0 || !isLast;
    const how = main ? (main.outcome === 'fails' ? `etcd ${main.version} will not start (${main.error})` : main.outcome === 'self-repairs' ? `etcd ${main.version} would repair this itself, truncating ${main.repair?.segment} at byte ${main.repair?.truncateAt}` : `etcd ${main.version} starts`) : '';
    const where = `${relative(layout.root, firstDamaged.path)} at byte ${firstDamaged.end.offset}`;
    return {
      status: 'repairable',
      exitCode: 1,
      headline: `WAL damaged at ${where}; ${how}`,
      nextStep: lost
        ? `wal-doctor repair --allow-entry-loss ${dir}  (valid records after the damage are lost; wal-doctor repair --dry-run ${dir} lists them)`
        : `wal-doctor repair ${dir}  (truncates after the last good record; wal-doctor repair --dry-run ${dir} shows the plan)`,
    };
  }
  if (main?.outcome === 'fails') {
    const snapIssue = /database snapshot file/.test(main.error ?? '');
    return {
      status: snapIssue ? 'repairable' : 'needs-rebuild',
      exitCode: snapIssue ? 1 : 2,
      headline: `etcd ${main.version} will not start: ${main.error}`,
      nextStep: snapIssue ? `wal-doctor repair ${dir}  (sets the newer .snap files aside when an older one matches the db)` : `wal-doctor rebuild --from ${dir} --out <new-dir>`,
    };
  }
  const repairable = findings.filter((f) => f.code === 'snap-file-broken' || f.code === 'empty-segment');
  if (errors.length > 0 || repairable.length > 0) {
    const first = errors[0] ?? repairable[0]!;
    return { status: 'repairable', exitCode: 1, headline: first.message, nextStep: `wal-doctor repair --dry-run ${dir}` };
  }
  const quorum = memberCount > 1 ? ` (as one of ${memberCount} members it serves once ${Math.floor(memberCount / 2) + 1} of them run)` : '';
  return { status: 'healthy', exitCode: 0, headline: `etcd ${main?.version ?? ''} will start as is${quorum}`.replace('  ', ' '), nextStep: 'nothing to do' };
}

/** Where truncating at the first damage would leave the log: the damaged segment and the last entry before it. */
export function truncationPoint(wal: WalAnalysis): { damaged: SegmentInfo | undefined; lastIndex: bigint | undefined } {
  let lastIndex: bigint | undefined;
  for (const s of wal.segments) {
    if (s.lastEntry) lastIndex = s.lastEntry.index;
    if (s.end.kind !== 'eof' && s.end.kind !== 'zero-length') return { damaged: s, lastIndex };
  }
  return { damaged: undefined, lastIndex };
}

