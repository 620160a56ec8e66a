/**
 * The one analysis behind inspect, verify, export's header, repair's plan and the terminal UI, in
 * named steps: layout → WAL walk → .snap checks → db (and what etcd's backend does with it) →
 * membership → what each etcd release line will do at boot → invariants between the stores →
 * who holds the dir now → verdict. Read-only: files are opened O_RDONLY and never locked.
 */
import { basename, relative } from 'node:path';
import { type Layout, locate } from '../io/layout.js';
import { findHolders } from '../io/locks.js';
import { hex16, parseSnapDbName } from '../format/wal/names.js';
import { WRITE_ALARMS } from '../format/bbolt/etcd-meta.js';
import { dbStep, readDbHead, type DbStep } from './db-facts.js';
import { TREE_LOSS_CODES } from '../format/bbolt/findings.js';
import { type Reconciliation, WriteLedger } from './reconcile.js';
import { readPeer } from './peers.js';
import { UsageError } from '../errors.js';
import { failureText, eofText, BOLT_OF } from './etcd-texts.js';
import { openFailureText } from '../format/bbolt/open-sim.js';
import { type BootInput, type BootPrediction, type EtcdVersion, ETCD_VERSIONS, predictBoot } from './predict.js';
import type { Finding, StallJson } from './finding.js';
import type { Report } from './report.js';
import { REPORT_SCHEMA_VERSION } from './schema-version.js';
import { snapStep } from './snap-facts.js';
import { type DbHolds, decideVerdict, truncationPoint, type Verdict } from './verdict.js';
import type { AnalyzeOptions, WalAnalysis } from './wal-analysis.js';
import { analyzeWalFiles } from './wal-files.js';
import { walFindings, walSummary } from './wal-report.js';
import { SecondWriterScan, twoWriterFindings } from './writers.js';
import { RecordIndex } from './record-index.js';
import type { WalkEvent } from '../format/wal/walk.js';
import { TOOL_VERSION } from '../version.js';
import { toJson } from './json.js';

export { truncationPoint };

export interface InspectOptions {
  /** A WAL dir kept outside the data dir (etcd's --wal-dir). */
  walDir?: string;
  /** Which etcd release line decides the verdict; default: the one that wrote the dir, else 3.5. */
  etcdVersion?: EtcdVersion;
  /** Progress of the WAL walk, the long part of the analysis (for a progress bar). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Look for a process holding the dir (default true; repair checks itself, under its lock). */
  checkHolders?: boolean;
  /** Data dirs of this member's peers: how far the cluster committed, against this log. */
  peerDirs?: string[];
  /** Also keep where every record lies (`Analysis.records`, ~9 bytes a record): for a front end that shows records. */
  indexRecords?: boolean;
}

export interface Analysis {
  layout: Layout;
  wal: WalAnalysis | undefined;
  report: Report;
  /** The typed verdict and predictions the report's JSON was made from. */
  verdict: Verdict;
  predictions: BootPrediction[];
  /** Where every record lies, when asked for (`indexRecords`). */
  records: RecordIndex | undefined;
}

/**
 * The one analysis: the WAL in one walk (with what else needs the log listening in), the .snap
 * files and the db, the findings, what each etcd line would do at boot, and the verdict.
 */
export function inspectPath(path: string, opts: InspectOptions = {}): Analysis {
  const layout = locate(path, opts.walDir === undefined ? {} : { walDir: opts.walDir });
  const rel = relativeTo(layout);
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const isDir = layout.kind === 'data-dir' || layout.kind === 'member-dir';

  // The writes the log holds at indexes the db has applied, to compare with the db (reconcile.ts).
  const head = isDir && layout.segments.length > 0 ? readDbHead(layout.db) : undefined;
  const ci = head?.consistentIndex;
  const ledger = ci !== undefined && ci > 0n ? new WriteLedger(ci, { alarmed: head!.alarmed }) : undefined;
  const { wal, twoWriters, records } = walStep(layout, opts, ledger, ci, rel);

  const snaps = snapStep(layout.snapFiles, wal, rel);
  for (const f of snaps.findings) add(f);
  // With no WAL the db is all there is: bbolt's whole check says whether a rebuild can read it.
  const noWal = isDir && layout.segments.length === 0;
  const db = dbStep(layout.db, layout.db ? rel(layout.db) : 'member/snap/db', { withStatus: layout.kind === 'db-file' || noWal, ...(ledger ? { ledger } : {}) });
  const reconciliation = reconcileStep(db, wal, ci, layout, ledger, add);

  const alarms = isDir ? alarmStep(db, wal, ci, add) : [];
  leftoverFindings(layout, add);
  if (wal) {
    walFindings(wal, rel, add);
    for (const f of twoWriters) add(f);
  } else if (isDir) {
    add({ code: 'no-wal', severity: 'error', file: 'member/wal' });
  }

  const { members, memberSources } = membership(snaps.reports, wal, db);
  const bootInput = bootInputOf(layout, wal, snaps.facts, db);
  const predictions = bootInput ? ETCD_VERSIONS.map((v) => predictBoot(bootInput, v)) : [];
  const { writer, evidence } = whoWrote(db, wal);
  const decidingVersion: EtcdVersion = opts.etcdVersion ?? (writer.startsWith('3.4') ? '3.4' : writer.startsWith('3.6') ? '3.6' : writer.startsWith('3.7') ? '3.7' : '3.5');
  const main = predictions.find((p) => p.version === decidingVersion);

  // The db and the invariants between the stores, then what the deciding line does at boot.
  dbFindings(layout, db, main, decidingVersion, add);
  const wr = wal ? walSummary(wal, rel) : null;
  invariantFindings(wal, wr, db, main, add);
  if (main) predictionFindings(main, layout, wal, rel, add);

  const holder = isDir && opts.checkHolders !== false ? holderStep(layout, opts.walDir, add) : undefined;
  const behind = wal && opts.peerDirs && opts.peerDirs.length > 0 ? peersStep(wal, opts.peerDirs, add) : undefined;

  const segs = wal?.segments.filter((s) => s.parsed) ?? [];
  const first = segs[0];
  const walFromStart = first !== undefined && first.parsed!.index === 0n && (first.firstEntry === undefined || first.firstEntry.index === 1n);
  const deciding = main?.db;
  const verdict = decideVerdict({
    layout,
    wal,
    main,
    findings,
    consistentIndex: db.consistentIndex,
    members: members.size,
    holder,
    walFromStart,
    dbDamaged: deciding?.kind === 'opens' && db.readerFindings.length > 0,
    // what a repair that sets files aside leaves etcd to do (verdict.ts: the records it would then start without)
    withoutDb: () => (bootInput && isDir ? predictBoot({ ...bootInput, snapFiles: [], snapDbIndexes: [], db: { present: false, boot: () => ({ kind: 'new' }) } }, decidingVersion) : undefined),
    withoutNewerSnaps: () => {
      const ci = db.consistentIndex;
      return bootInput && isDir && ci !== undefined ? predictBoot({ ...bootInput, snapFiles: bootInput.snapFiles.filter((f) => f.valid && f.index <= ci) }, decidingVersion) : undefined;
    },
    behind,
    ...(noWal ? { dbHolds: dbHolds(db) } : {}),
    mismatch: reconciliation && reconciliation.mismatches > 0 ? { mismatches: reconciliation.mismatches, keys: reconciliation.first.map((m) => m.key) } : undefined,
    alarms,
    rel,
  });

  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'wal-doctor', version: TOOL_VERSION },
    path: layout.root,
    kind: layout.kind,
    layout: layout.files,
    writtenBy: { version: writer, evidence },
    cluster: { members: [...members].sort((x, y) => (x < y ? -1 : 1)).map(hex16), sources: memberSources },
    wal: wr,
    snapFiles: snaps.reports,
    db: db.report,
    etcd: predictions.map((p) => predictionJson(p, layout.root)),
    reconciliation: reconciliation
      ? { keys: reconciliation.keys, checked: reconciliation.checked, ambiguous: reconciliation.ambiguous, truncated: reconciliation.truncated, skippedBecause: reconciliation.skipped ?? null, mismatches: reconciliation.mismatches, first: reconciliation.first }
      : null,
    findings,
    verdict: { etcdVersion: decidingVersion, status: verdict.status, exitCode: verdict.exitCode, reason: toJson(verdict.reason) as Report['verdict']['reason'], next: toJson(verdict.next) as Report['verdict']['next'] },
  };
  return { layout, wal, report, verdict, predictions, records };
}

/** What `memberFacts` gives: a member's layout, WAL walk and the report's WAL, .snap and db parts. */
export interface MemberReading {
  layout: Layout;
  wal: WalAnalysis | undefined;
  /** As in the Report (`wal`, `snapFiles`, `db`), made by the same steps. */
  walReport: Report['wal'];
  snapFiles: Report['snapFiles'];
  db: Report['db'];
}

/**
 * A member's facts without the checks, for a caller that compares members and reports none of the
 * findings (diff): the same layout, WAL walk, .snap and db steps as `inspectPath`, without what
 * only a verdict needs, each a pass over every entry or every page and value: the apply check of
 * each entry (the walk's `badEntries` stay empty), the WAL/db reconciliation, what each etcd line
 * does with the db at boot, and the probe for a process holding the dir.
 */
export function memberFacts(path: string): MemberReading {
  const layout = locate(path);
  return memberFactsOf(layout, layout.segments.length > 0 ? analyzeWalFiles(layout.segments, MEMBER_WAL_OPTIONS) : undefined);
}

/** How memberFacts walks the WAL: a caller that drives that walk itself gives it these options. */
export const MEMBER_WAL_OPTIONS: Readonly<AnalyzeOptions> = { applyProblems: false };

/** memberFacts from a WAL analysis made elsewhere (with MEMBER_WAL_OPTIONS). */
export function memberFactsOf(layout: Layout, wal: WalAnalysis | undefined): MemberReading {
  const rel = relativeTo(layout);
  const snaps = snapStep(layout.snapFiles, wal, rel);
  const db = dbStep(layout.db, layout.db ? rel(layout.db) : 'member/snap/db', { withStatus: layout.kind === 'db-file', boot: false });
  return { layout, wal, walReport: wal ? walSummary(wal, rel) : null, snapFiles: snaps.reports, db: db.report };
}

/** A path as the report names it: relative to the dir inspected (its own name when it is that dir). */
function relativeTo(layout: Layout): (abs: string) => string {
  return (abs) => relative(layout.root, abs) || basename(abs);
}

/** The WAL, in one walk: its analysis, and what the two-writer rules and a record index hear of it. */
function walStep(layout: Layout, opts: InspectOptions, ledger: WriteLedger | undefined, ci: bigint | undefined, rel: (abs: string) => string): { wal: WalAnalysis | undefined; twoWriters: Finding[]; records: RecordIndex | undefined } {
  const records = opts.indexRecords ? new RecordIndex() : undefined;
  if (layout.segments.length === 0) return { wal: undefined, twoWriters: [], records };
  const scan = new SecondWriterScan();
  const observe = records ? (ev: WalkEvent) => (scan.onEvent(ev), records.onEvent(ev)) : (ev: WalkEvent) => scan.onEvent(ev);
  const wal = analyzeWalFiles(layout.segments, { ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(ledger ? { ledger } : {}), ...(ci !== undefined ? { termAtIndex: ci } : {}), observe });
  return { wal, twoWriters: twoWriterFindings(wal, scan, rel), records };
}

/**
 * The alarms etcd keeps raised once it has started: those its db holds (the `alarm` bucket, read
 * back at boot), then the log's alarm requests above the consistent index, which it applies
 * again. While a NOSPACE or CORRUPT alarm is raised etcd serves reads and refuses every write.
 * An alarm key that does not unmarshal makes etcd fail reading them back.
 */
function alarmStep(db: DbStep, wal: WalAnalysis | undefined, ci: bigint | undefined, add: (f: Finding) => void): Finding[] {
  const file = db.report?.path ?? 'member/snap/db';
  const raised = new Map<string, Extract<Finding, { code: 'alarm-raised' }>>();
  for (const a of db.alarms) {
    if (a.alarm === undefined) raised.set(`unreadable ${a.offset}`, { code: 'alarm-raised', severity: 'error', file, offset: a.offset, alarm: 'unreadable', memberId: hex16(0n), index: null });
    else if (WRITE_ALARMS[a.alarm]) raised.set(`${a.alarm} ${a.memberId}`, { code: 'alarm-raised', severity: 'error', file, alarm: WRITE_ALARMS[a.alarm]!, memberId: hex16(a.memberId), index: null });
  }
  const readTo = wal ? readableLogEnd(wal) : undefined;
  for (const r of wal?.alarmRequests ?? []) {
    if (r.index <= (ci ?? 0n) || readTo === undefined || r.index > readTo || !WRITE_ALARMS[r.alarm]) continue;
    const key = `${r.alarm} ${r.memberId}`;
    if (r.action === 'deactivate') raised.delete(key);
    else if (!raised.has(key)) raised.set(key, { code: 'alarm-raised', severity: 'error', file, alarm: WRITE_ALARMS[r.alarm]!, memberId: hex16(r.memberId), index: `${r.index}` });
  }
  const out = [...raised.values()];
  for (const f of out) add(f);
  return out;
}

/**
 * The WAL/db comparison, unless the log cannot say what the db should hold (then why not). Keys
 * absent from the db that a range delete may explain, or that the db cannot name, are settled by
 * walking the log a second time with the ledger listening (only when there are any).
 */
function reconcileStep(db: DbStep, wal: WalAnalysis | undefined, ci: bigint | undefined, layout: Layout, ledger: WriteLedger | undefined, add: (f: Finding) => void): Reconciliation | undefined {
  const readTo = wal ? readableLogEnd(wal) : undefined;
  const reconciliation = !db.reconciliation || !wal || ci === undefined
    ? db.reconciliation
    : readTo === undefined || readTo < ci
        ? { ...db.reconciliation, skipped: { code: 'log-ends-below-applied' as const, readTo: `${readTo ?? 0}`, consistentIndex: `${ci}` }, mismatches: 0, first: [] }
        : wal.emptyMidTerm !== undefined && wal.emptyMidTerm <= ci
          ? { ...db.reconciliation, skipped: { code: 'bridged' as const, index: `${wal.emptyMidTerm}` }, mismatches: 0, first: [] }
          : db.reconciliation;
  if (ledger && reconciliation && reconciliation === db.reconciliation && ledger.needsNaming(db.reconciliation)) {
    ledger.beginNaming(db.reconciliation);
    analyzeWalFiles(layout.segments, { ledger });
    ledger.settle(db.reconciliation);
  }
  if (reconciliation && reconciliation.mismatches > 0) {
    const first = reconciliation.first[0];
    add({
      code: 'db-wal-mismatch',
      severity: 'error',
      file: db.report?.path ?? 'member/snap/db',
      details: { mismatches: reconciliation.mismatches, checked: reconciliation.checked, keys: reconciliation.first.map((m) => m.key).join(' ') },
      mismatches: reconciliation.mismatches,
      // Compared only against a db with a consistent index (the ledger needs one).
      consistentIndex: `${ci ?? 0n}`,
      first: first ?? null,
    });
  }
  return reconciliation;
}

/**
 * Who the member shares its cluster with. raft's own record (the newest .snap's conf state and the
 * WAL's conf changes) wins; the db's copy is used only without them (a 3.5 restore leaves the old
 * meta/confState).
 */
function membership(snapReports: Report['snapFiles'], wal: WalAnalysis | undefined, db: DbStep): { members: Set<bigint>; memberSources: string[] } {
  const members = new Set<bigint>();
  const memberSources: string[] = [];
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
    for (const v of db.members) members.add(v);
    memberSources.push(...db.memberSources);
  }
  return { members, memberSources };
}

/** What etcd's boot reads (data dirs and WAL dirs only; none: nothing to predict). */
function bootInputOf(layout: Layout, wal: WalAnalysis | undefined, snapFacts: BootInput['snapFiles'], db: DbStep): BootInput | undefined {
  const isDir = layout.kind === 'data-dir' || layout.kind === 'member-dir';
  if (!wal || !(isDir || layout.kind === 'wal-dir')) return undefined;
  return {
    wal,
    snapFiles: snapFacts,
    snapDbIndexes: layout.files.map((f) => parseSnapDbName(basename(f.path))).filter((x): x is bigint => x !== undefined),
    // A WAL dir on its own: judge the log as if the db were fine.
    db: layout.kind === 'wal-dir' ? { present: true, boot: () => ({ kind: 'opens', consistentIndex: 0n, clusterVersion: undefined, storageVersion: undefined, voters: [], restore: undefined }) } : db.facts,
  };
}

/** A process holding the dir now (etcd, or anything with its files open). */
function holderStep(layout: Layout, walDir: string | undefined, add: (f: Finding) => void): { pid: number | undefined; command: string | undefined; file: string } | undefined {
  const h = findHolders(layout.root, { flockProbe: false, ...(walDir === undefined ? {} : { walDir }) }).filter((x) => !x.waiting)[0];
  if (!h) return undefined;
  add({ code: 'etcd-running', severity: 'error', file: h.path, details: { ...(h.pid !== undefined ? { pid: h.pid } : {}), kind: h.kind }, pid: h.pid ?? null, command: h.command ?? null });
  return { pid: h.pid, command: h.command, file: h.path };
}

/** Whether the peers committed past this log's end (`--peer-dir`). */
function peersStep(wal: WalAnalysis, peerDirs: string[], add: (f: Finding) => void): { lastIndex: bigint; commit: bigint; peer: string } | undefined {
  let behind: { lastIndex: bigint; commit: bigint; peer: string } | undefined;
  const ours = lastEntryIndex(wal) ?? 0n;
  for (const dir of peerDirs) {
    const peer = readPeer(dir);
    if (wal.metadata && peer.clusterId !== undefined && peer.clusterId !== wal.metadata.clusterId) {
      throw new UsageError(`${dir}: not a peer of this member (cluster ${hex16(peer.clusterId)}, this one is ${hex16(wal.metadata.clusterId)})`);
    }
    if (peer.commit > ours && (!behind || peer.commit > behind.commit)) behind = { lastIndex: ours, commit: peer.commit, peer: peer.dir };
  }
  if (behind) add({ code: 'behind-cluster', severity: 'error', expected: `>= ${behind.commit}`, found: `${behind.lastIndex}`, lastIndex: `${behind.lastIndex}`, commit: `${behind.commit}`, peer: behind.peer });
  return behind;
}

/** The last entry of the log as it reads without a stop: up to the first damage or hidden records. */
function readableLogEnd(wal: WalAnalysis): bigint | undefined {
  let last: bigint | undefined;
  for (const s of wal.segments) {
    if (s.lastEntry) last = s.lastEntry.index;
    const clean = s.end.kind === 'eof' || (s.end.kind === 'zero-length' && s.salvage.chained === 0);
    if (!clean) return last;
  }
  return last;
}

function lastEntryIndex(wal: WalAnalysis): bigint | undefined {
  for (let i = wal.segments.length - 1; i >= 0; i--) {
    const e = wal.segments[i]!.lastEntry;
    if (e) return e.index;
  }
  return undefined;
}

function leftoverFindings(layout: Layout, add: (f: Finding) => void): void {
  for (const f of layout.files) {
    if (f.role === 'wal-tmp' || f.role === 'wal-tmp-dir' || f.role === 'db-tmp' || f.role === 'snap-tmp') {
      add({ code: 'leftover-tmp', severity: 'info', file: f.path, isDir: f.isDir, size: f.size });
    } else if (f.role === 'wal-broken' || f.role === 'snap-broken' || f.role === 'wal-broken-dir') {
      add({ code: 'broken-copy', severity: 'info', file: f.path });
    } else if (f.role === 'unknown') {
      add({ code: 'unknown-file', kind: 'unknown', severity: 'info', file: f.path });
    } else if (f.role === 'not-regular') {
      const n = layout.notRegular.find((x) => x.path === f.path);
      add({ code: 'unknown-file', kind: 'not-regular', severity: 'error', file: f.path, expected: 'a regular file', found: n?.is ?? 'not a regular file', is: n?.is ?? null, etcdKeeps: n?.expected ?? null });
    }
  }
}

function whoWrote(db: DbStep, wal: WalAnalysis | undefined): { writer: string; evidence: string[] } {
  const evidence: string[] = [];
  let writer = 'unknown';
  if (db.writer) {
    writer = db.writer;
    evidence.push(db.writer === '3.6' || db.writer === '3.7' ? `db meta/storageVersion ${db.writer}` : db.writer === '3.5' ? 'db meta/term present (3.5+), no storageVersion' : 'db has no meta/term (3.4 or older)');
  }
  if (db.clusterVersion) evidence.push(`cluster version ${db.clusterVersion}`);
  // etcd refuses a cluster version above its own: the line that last ran the dir is at least the
  // db's. A meta bucket that lost its term and storageVersion keys (a power cut's page) must not
  // make a dir 3.6 ran read as 3.4's.
  const cvLine = db.clusterVersion?.split('.').slice(0, 2).join('.');
  const lines: readonly string[] = ETCD_VERSIONS;
  if (db.writer && cvLine && lines.includes(cvLine) && lines.indexOf(cvLine) > lines.indexOf(db.writer)) {
    writer = cvLine;
    evidence.push(`etcd ${cvLine} or later ran it last (its cluster version), whatever the meta bucket's keys say`);
  }
  if (wal && writer === 'unknown' && wal.clusterVersion) {
    // No db to read: the cluster version the log last set says which line ran it.
    writer = wal.clusterVersion.split('.').slice(0, 2).join('.');
    evidence.push(`the WAL sets cluster version ${wal.clusterVersion}`);
  }
  if (wal) {
    const withCs = wal.snapshots.filter((r) => r.index > 0n);
    if (withCs.length > 0) {
      const cs = withCs.every((r) => r.hasConfState);
      evidence.push(cs ? 'WAL snapshot records carry conf_state (3.5+)' : 'WAL snapshot records without conf_state (3.4)');
      if (writer === 'unknown') writer = cs ? '3.5+' : '3.4';
    }
  }
  return { writer, evidence };
}

function u64OrNull(n: bigint | undefined): string | null {
  return n === undefined ? null : `${n}`;
}

function dbFindings(layout: Layout, db: DbStep, main: BootPrediction | undefined, v: EtcdVersion, add: (f: Finding) => void): void {
  const path = db.report?.path ?? 'member/snap/db';
  if (db.report) {
    const problems = db.readerFindings;
    if (problems.length > 0) {
      const first = problems[0]!;
      add({ code: 'db-damaged', kind: 'reader', severity: 'warning', file: path, offset: first.offset, details: { problems: problems.length }, problems: problems.length, firstCode: first.code });
    }
    if (db.statusFindings.length > 0) {
      const first = db.statusFindings[0];
      add({ code: 'db-damaged', kind: 'integrity', severity: 'error', file: path, offset: first?.offset ?? 0, found: first?.code ?? '', errors: db.statusFindings.length, firstCode: first?.code ?? null });
    }
    if (db.trailer && !db.trailer.ok) {
      add({ code: 'db-damaged', kind: 'sha256-trailer', severity: 'error', file: path, offset: db.report.size - 32, expected: db.trailer.computed ?? '', found: db.trailer.stored ?? '', stored: db.trailer.stored ?? null, computed: db.trailer.computed ?? null });
    }
    // What bbolt (of the deciding line) does with it: the error it dies on, located.
    const boot = db.facts.boot(v);
    if (boot.kind === 'fails') {
      const text = openFailureText(boot.failure, BOLT_OF[v]);
      const offset = boot.failure.code === 'fault' ? boot.failure.offset : 'pgid' in boot.failure ? Number(boot.failure.pgid) * db.pageSize : 0;
      add({ code: 'db-damaged', kind: 'open', severity: 'error', file: path, offset, found: boot.failure.code, etcdVersion: v, error: text });
    } else if (boot.kind === 'opens' && boot.restore) {
      add({ code: 'db-damaged', kind: 'restore', severity: 'error', file: path, offset: 'offset' in boot.restore ? boot.restore.offset : 0, found: boot.restore.code, etcdVersion: v, failure: boot.restore.code, error: 'error' in boot.restore ? boot.restore.error : null });
    }
  } else if (layout.kind === 'data-dir' || layout.kind === 'member-dir') {
    const fromStart = main?.outcome !== 'fails' && main?.db.kind === 'new';
    add({ code: 'db-missing', severity: fromStart ? 'info' : 'error', file: 'member/snap/db', rebuiltFromWal: fromStart });
  }
}

function invariantFindings(wal: WalAnalysis | undefined, wr: Report['wal'], db: DbStep, main: BootPrediction | undefined, add: (f: Finding) => void): void {
  const path = db.report?.path ?? 'member/snap/db';
  const ci = db.consistentIndex;
  if (wal && ci !== undefined && wr?.hardState) {
    const commit = BigInt(wr.hardState.commit);
    if (ci > commit) {
      add({ code: 'db-index-above-commit', severity: 'warning', file: path, expected: `<= ${commit}`, found: `${ci}`, consistentIndex: `${ci}`, commit: `${commit}` });
    }
    // 3.5+ write the term of the entry they applied last beside its index: the log's entry at that
    // index must carry it (seen otherwise where a power cut left the meta page's sectors from two
    // moments: the index from before a write, the keys and term from after; etcd applied that
    // write again over the db, a key served at a revision and version nobody wrote)
    if (db.holdsNextWrite) {
      add({ code: 'db-holds-next-write', severity: 'error', file: path, expected: `entry ${ci + 1n} not applied`, found: 'its write is the newest revision', consistentIndex: `${ci}`, index: `${ci + 1n}` });
    }
    if (db.term !== undefined && wal.termAt !== undefined && wal.termAt.index === ci && wal.termAt.term !== db.term) {
      add({ code: 'db-term-mismatch', severity: 'error', file: path, expected: `term ${wal.termAt.term}`, found: `term ${db.term}`, consistentIndex: `${ci}`, term: `${db.term}`, walTerm: `${wal.termAt.term}` });
    }
    if (db.term !== undefined && db.term > BigInt(wr.hardState.term)) {
      add({ code: 'db-term-ahead', severity: 'warning', file: path, expected: `<= ${wr.hardState.term}`, found: `${db.term}`, term: `${db.term}`, walTerm: wr.hardState.term });
    }
  }
  if (main?.snapshot && ci !== undefined && ci !== 0n && ci < main.snapshot.index) {
    add({ code: 'db-behind-snapshot', severity: 'error', file: path, expected: `>= ${main.snapshot.index}`, found: `${ci}`, consistentIndex: `${ci}`, snapshot: main.snapshot.name, snapshotIndex: `${main.snapshot.index}` });
  }
  if (wal && ci !== undefined && !main?.hazards.some((h) => h.code === 'db-ahead-of-wal')) {
    const cut = truncationPoint(wal);
    if (cut.damaged && cut.lastIndex !== undefined && ci > cut.lastIndex) {
      add({ code: 'db-ahead-of-wal', kind: 'cut', severity: 'error', file: path, expected: `consistent index <= ${cut.lastIndex}`, found: `${ci}`, consistentIndex: `${ci}`, lastIndex: `${cut.lastIndex}` });
    }
  }
}

/** What the db holds for a rebuild when there is no WAL (its check ran: `withStatus`). */
function dbHolds(db: DbStep): DbHolds {
  const r = db.report;
  if (r === null || r.size === 0) return 'nothing';
  if (r.consistentIndex === null || db.statusFindings.some((f) => TREE_LOSS_CODES.has(f.code))) return 'unreadable';
  return r.revision === null ? 'nothing' : 'keys';
}

function predictionFindings(p: BootPrediction, layout: Layout, wal: WalAnalysis | undefined, rel: (abs: string) => string, add: (f: Finding) => void): void {
  const segFile = (name: string) => {
    const s = wal?.segments.find((x) => x.name === name);
    return s ? rel(s.path) : name;
  };
  for (const h of p.hazards) {
    if (h.code === 'db-ahead-of-wal') {
      add({ code: 'db-ahead-of-wal', kind: 'boot', severity: 'error', file: 'member/snap/db', expected: `consistent index <= ${h.lastIndex}`, found: `${h.consistentIndex}`, etcdVersion: p.version, consistentIndex: `${h.consistentIndex}`, lastIndex: `${h.lastIndex}` });
    } else if (h.code === 'etcd-repair-drops-valid-records') {
      add({ code: 'etcd-repair-drops-valid-records', severity: 'error', ...(p.repair ? { file: segFile(p.repair.segment), offset: p.repair.truncateAt } : {}), etcdVersion: p.version, segment: p.repair?.segment ?? null, truncateAt: p.repair?.truncateAt ?? null, records: h.records, entries: h.entries, firstIndex: u64OrNull(h.first), lastIndex: u64OrNull(h.last) });
    } else {
      add({ code: 'records-hidden-after-zero-length', kind: 'boot', severity: 'error', file: segFile(h.segment), offset: h.offset, details: { records: h.records, entries: h.entries, committed: h.committed }, etcdVersion: p.version, records: h.records, entries: h.entries, firstIndex: u64OrNull(h.first), lastIndex: u64OrNull(h.last), committed: h.committed, unchained: h.unchained });
    }
  }
  if (p.outcome === 'fails' && p.failure) {
    const says = failureText(p.failure, p.version, layout.root);
    const bad = p.failure.code === 'apply-fails' ? p.failure.entry : undefined;
    add({
      code: 'etcd-will-fail',
      severity: 'error',
      ...(bad && wal?.segments[bad.segment] ? { file: rel(wal.segments[bad.segment]!.path), offset: bad.offset } : {}),
      found: says.error,
      details: { failure: p.failure.code },
      etcdVersion: p.version,
      failure: p.failure.code,
      error: says.error,
      log: says.log,
      entryIndex: bad ? `${bad.index}` : null,
    });
  }
  if (p.outcome === 'never-healthy' && p.stall) {
    add({ code: 'etcd-will-stall', severity: 'error', details: { stall: p.stall.code }, etcdVersion: p.version, stall: toJson(p.stall) as StallJson });
  }
  if (p.commit !== undefined && p.lastIndex !== undefined && p.commit > p.lastIndex) {
    add({ code: 'commit-beyond-last-index', severity: 'error', expected: `<= ${p.lastIndex}`, found: `${p.commit}`, commit: `${p.commit}`, lastIndex: `${p.lastIndex}` });
  }
}

function predictionJson(p: BootPrediction, dataDir: string): Report['etcd'][number] {
  const says = p.failure ? failureText(p.failure, p.version, dataDir) : undefined;
  return {
    version: p.version,
    outcome: p.outcome,
    failure: p.failure ? (toJson(p.failure) as { code: string }) : null,
    stall: p.stall ? (toJson(p.stall) as { code: string }) : null,
    error: says ? says.error : p.repair ? eofText(p.repair.eof, p.version) : null,
    log: says ? says.log : p.repair ? (p.version === '3.4' ? `repaired WAL error (${eofText(p.repair.eof, p.version)})` : 'repaired WAL') : null,
    capnslog: says?.capnslog ?? null,
    orElse: says?.orElse ? { error: says.orElse.error, log: says.orElse.log } : null,
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
    db: p.db.kind,
    lastIndex: p.lastIndex === undefined ? null : `${p.lastIndex}`,
    commit: p.commit === undefined ? null : `${p.commit}`,
    hazards: p.hazards.map((h) => toJson(h) as { code: string }),
  };
}
