/**
 * The db step of the analysis: what `member/snap/db` holds (consistent index, term, revision,
 * cluster version, membership) for the report, and what etcd's backend does with it at boot for
 * each release line (bbolt's Open, then the reads of its restore) for the prediction.
 */
import { openBoltFile } from '../io/bolt-file.js';
import { type DbAlarm, type EtcdBootMeta, decodeRevision, readAlarms, readEtcdBootMeta, readEtcdMeta, readMembers, snapshotStatus, writerLine } from '../format/bbolt/etcd-meta.js';
import { checkRestore, type RestoreCheck, type RestoreFailure, type UnmarshalCheck } from '../format/bbolt/etcd-restore.js';
import { simulateOpen, type BoltView, type OpenResult } from '../format/bbolt/open-sim.js';
import { type EtcdRelease, checkEtcdUnmarshal, checkEtcdUnmarshalInEachRelease, unmarshalFailureText } from '../format/proto/unmarshal.js';
import { hex16 } from '../format/wal/names.js';
import type { BboltFinding } from '../format/bbolt/findings.js';
import type { EtcdBackendFinding } from '../format/bbolt/etcd-meta.js';
import { BOLT_OF } from './etcd-texts.js';
import { type LedgerResult, type WriteLedger, newestIsNext } from './reconcile.js';
import type { DbBoot, DbFacts, DbRace, EtcdVersion } from './predict.js';
import type { Report } from './report.js';

export interface DbStep {
  facts: DbFacts;
  report: Report['db'];
  /** Voters and members the db records (meta/confState, members bucket): used when raft's own record is missing. */
  members: Set<bigint>;
  memberSources: string[];
  /** Which etcd wrote the db, by its keys (3.6+: its storageVersion; 3.5: meta/term; else 3.4). */
  writer: '3.4' | '3.5' | '3.6' | '3.7' | undefined;
  clusterVersion: string | undefined;
  consistentIndex: bigint | undefined;
  term: bigint | undefined;
  /** Problems the lenient reader found while reading the metadata (not a boot verdict). */
  readerFindings: (BboltFinding | EtcdBackendFinding)[];
  /** Integrity check of a db inspected on its own (snapshot status). */
  statusFindings: BboltFinding[];
  trailer: { ok: boolean; stored?: string; computed?: string } | undefined;
  pageSize: number;
  /** The alarms the db keeps raised (its `alarm` bucket). */
  alarms: DbAlarm[];
  /** The db's newest revision is a put of the entry right above its consistent index (reconcile.ts `newestIsNext`). */
  holdsNextWrite: boolean;
  /** WAL and db compared (when a ledger was given and the db could be read); may wait for the names walk (`pending`). */
  reconciliation: LedgerResult | undefined;
}

/** etcd's restore-time unmarshal of a KeyValue / Lease with `release`'s protobuf library (gogoproto
 *  up to 3.6, protobuf-go from 3.7): undefined when it unmarshals, else its error text. */
const unmarshalOf =
  (release: EtcdRelease): UnmarshalCheck =>
  (typeName, bytes) => {
    const r = checkEtcdUnmarshal(typeName, bytes, { release });
    return r.ok ? undefined : unmarshalFailureText(r.failure);
  };
const GOGO = unmarshalOf('3.5');
const PROTOBUF_GO = unmarshalOf('3.7');
/** GOGO, also telling `same` when a value's bytes might read otherwise in another release. */
const gogoWatching = (same: { all: boolean }): UnmarshalCheck => (typeName, bytes) => {
  const r = checkEtcdUnmarshalInEachRelease(typeName, bytes);
  if (!r.sameInEachRelease) same.all = false;
  return r.outcome.ok ? undefined : unmarshalFailureText(r.outcome.failure);
};
/** Which unmarshal each etcd line's restore runs (KeyValue and Lease are the same in 3.4..3.6). */
const UNMARSHAL_OF: Record<EtcdVersion, UnmarshalCheck> = { '3.4': GOGO, '3.5': GOGO, '3.6': GOGO, '3.7': PROTOBUF_GO };

/**
 * Just the db's consistent index (cheap: the meta bucket), or undefined when it cannot be read, and
 * whether it keeps a NOSPACE or CORRUPT alarm raised (the `alarm` bucket: a handful of keys).
 */
export function readDbHead(path: string | undefined): { consistentIndex: bigint | undefined; alarmed: boolean } {
  if (path === undefined) return { consistentIndex: undefined, alarmed: false };
  const opened = openBoltFile(path);
  try {
    if (opened.db.meta === undefined || opened.file.size === 0) return { consistentIndex: undefined, alarmed: false };
    return { consistentIndex: readEtcdMeta(opened.db).consistentIndex, alarmed: readAlarms(opened.db).some((a) => a.alarm === 1 || a.alarm === 2 || a.alarm === undefined) };
  } finally {
    opened.close();
  }
}

export interface DbStepOptions {
  /** Add `etcdutl snapshot status` (for a db inspected on its own). */
  withStatus?: boolean;
  /** Hand it the db's `key` items to compare with the log's writes (read with the boot's restore walk). */
  ledger?: WriteLedger;
  /**
   * What each etcd line does with the db at boot (walks of every page and value); default true.
   * Without it `facts.boot` says nothing (a new db) and no ledger is fed: for a caller that only
   * reports the metadata.
   */
  boot?: boolean;
}

/** Read the db at `path` (undefined: absent). `relPath` names it in the report. */
export function dbStep(path: string | undefined, relPath: string, opts: DbStepOptions = {}): DbStep {
  const { withStatus = false, ledger, boot: simulateBoot = true } = opts;
  const step: DbStep = {
    facts: { present: path !== undefined, boot: () => ({ kind: 'new' }) },
    report: null,
    members: new Set(),
    memberSources: [],
    writer: undefined,
    clusterVersion: undefined,
    consistentIndex: undefined,
    term: undefined,
    readerFindings: [],
    statusFindings: [],
    trailer: undefined,
    pageSize: 4096,
    alarms: [],
    holdsNextWrite: false,
    reconciliation: undefined,
  };
  if (path === undefined) return step;

  const opened = openBoltFile(path);
  try {
    const file = opened.file;
    const db = opened.db;
    step.pageSize = db.pageSize;
    if (opened.trailer) step.trailer = { ok: opened.trailer.ok, ...(opened.trailer.stored ? { stored: opened.trailer.stored } : {}), ...(opened.trailer.computed ? { computed: opened.trailer.computed } : {}) };
    let meta: ReturnType<typeof readEtcdMeta> | undefined;
    /** What etcd reads of the same keys (differs where a seek misses one). */
    let bootMeta: EtcdBootMeta | undefined;
    let dbVoters: bigint[] = [];
    let dbMembers: { present: bigint[]; learners: bigint[]; removed: bigint[] } = { present: [], learners: [], removed: [] };
    if (db.meta !== undefined && file.size > 0) {
      meta = readEtcdMeta(db);
      step.consistentIndex = meta.consistentIndex;
      step.term = meta.term;
      step.clusterVersion = meta.clusterVersion;
      // Only a meta bucket actually read says anything about the writer.
      if (meta.consistentIndex !== undefined) step.writer = writerLine(meta);
      if (meta.confState) {
        for (const v of [...meta.confState.voters, ...meta.confState.learners]) step.members.add(v);
        step.memberSources.push('db meta/confState');
      }
      bootMeta = readEtcdBootMeta(db, meta);
      const mb = readMembers(db);
      dbVoters = mb.members.filter((x) => !x.isLearner && !mb.removed.includes(x.id)).map((x) => x.id);
      dbMembers = { present: mb.members.filter((x) => !mb.removed.includes(x.id)).map((x) => x.id), learners: mb.members.filter((x) => x.isLearner).map((x) => x.id), removed: mb.removed };
      if (mb.members.length > 0) {
        for (const x of mb.members) if (!mb.removed.includes(x.id)) step.members.add(x.id);
        step.memberSources.push('db members bucket');
      }
      step.alarms = readAlarms(db);
      // what etcd misses first: it is what changes its boot
      step.readerFindings.push(...bootMeta.findings, ...db.findings, ...meta.findings);
    }
    // The current revision is the last key of `key`: found by descending one path.
    const lastKey = db.meta !== undefined ? db.lastItem('key') : undefined;
    const lastRev = lastKey ? decodeRevision(lastKey.key) : undefined;
    step.holdsNextWrite = ledger !== undefined && lastRev !== undefined && !lastRev.tombstone && newestIsNext(ledger.nextPuts, lastKey!.value);
    const compact = meta ? [meta.finishedCompactRev, meta.scheduledCompactRev].filter((x): x is bigint => x !== undefined) : [];
    step.report = {
      path: relPath,
      size: file.size,
      consistentIndex: meta?.consistentIndex === undefined ? null : `${meta.consistentIndex}`,
      term: meta?.term === undefined ? null : `${meta.term}`,
      revision: lastRev ? `${lastRev.main}` : null,
      compactRevision: compact.length ? `${compact.reduce((a, b) => (a > b ? a : b))}` : null,
      clusterVersion: meta?.clusterVersion ?? null,
      storageVersion: meta?.storageVersion ?? null,
      voters: (meta?.confState?.voters ?? []).map(hex16),
      snapshotSave: opened.trailer ? (opened.trailer.ok ? 'sha256-ok' : 'sha256-mismatch') : 'none',
      status: null,
      problems: step.readerFindings.length,
    };
    if (withStatus && db.meta !== undefined) {
      const st = snapshotStatus(db);
      step.report.status = { hash: st.hash, revision: `${st.revision}`, totalKey: st.totalKey, totalSize: st.totalSize, integrityOk: st.integrityOk };
      if (!st.integrityOk) {
        step.statusFindings = st.findings;
        step.report.problems += st.findings.length;
      }
    }

    if (!simulateBoot) return step;

    // What each etcd line does with the file at boot: its bbolt line opens it, then its restore
    // unmarshals values with its protobuf library. The walks read every page (and, for the
    // restore, every value), as etcd does. Lines whose bbolt behaves alike share one open walk
    // (3.7's bbolt 1.5 walks as 1.4 does); their restores share one reading of the values when no
    // value holds anything gogo (3.5, 3.6) and protobuf-go (3.7) could read differently; and 1.3.6
    // (3.4), which checks strictly less, shares a clean result of the same unmarshal.
    const byBehaviour = new Map<string, { boot: DbBoot; clean: boolean; unmarshal: UnmarshalCheck }>();
    let fed = false;
    const opens = new Map<string, OpenResult>();
    const restores = new Map<string, { check: RestoreCheck; same: { all: boolean } }>();
    /** What a line dies of at restore: 3.4/3.5's reading of the revisions, or (`strict`) 3.6+'s; one walk gives both. */
    const restoreOf = (boltKey: string, view: BoltView, root: bigint, unmarshal: UnmarshalCheck, strict: boolean): RestoreFailure | undefined => {
      const pick = (c: RestoreCheck) => (strict ? c.strictFailure : c.failure);
      // The first restore walk also hands each key item to the reconciliation (once).
      const feed = ledger && !fed ? (k: Uint8Array, kv: Uint8Array) => ledger.onDbItem(k, kv) : undefined;
      if (feed) {
        fed = true;
        const same = { all: true };
        const check = checkRestore(view, root, unmarshal === GOGO ? gogoWatching(same) : unmarshal, feed);
        restores.set(`${boltKey}${unmarshal === PROTOBUF_GO ? 'protobuf-go' : 'gogo'}`, { check, same });
        return pick(check);
      }
      const gogoKey = `${boltKey}gogo`;
      if (unmarshal === PROTOBUF_GO) {
        const gogo = restores.get(gogoKey);
        if (gogo && pick(gogo.check) === undefined && gogo.same.all) return undefined; // every value read alike, and accepted
      }
      const key = unmarshal === PROTOBUF_GO ? `${boltKey}protobuf-go` : gogoKey;
      let known = restores.get(key);
      if (!known) {
        const same = { all: true };
        known = { check: checkRestore(view, root, unmarshal === GOGO ? gogoWatching(same) : unmarshal), same };
        restores.set(key, known);
      }
      return pick(known.check);
    };
    const bootOf = (v: EtcdVersion): DbBoot => {
      const line = BOLT_OF[v];
      const unmarshal = UNMARSHAL_OF[v];
      const boltKey = `${line.pageAssert}${line.keyOrder}${line.sizeInMessage}${line.zeroChecksumOk}${line.probeSecondMeta}`;
      // 3.6 and later read revisions with BytesToBucketKey's checks (etcd-restore.ts)
      const strictBucketKeys = v !== '3.4' && v !== '3.5';
      const key = `${boltKey}${unmarshal === PROTOBUF_GO ? 'protobuf-go' : 'gogo'}${strictBucketKeys ? 'strict' : ''}`;
      const known = byBehaviour.get(key);
      if (known) return known.boot;
      if (!line.pageAssert) {
        const strict = [...byBehaviour.values()].find((x) => x.clean && x.unmarshal === unmarshal);
        if (strict) return strict.boot;
      }
      let r = opens.get(boltKey);
      if (!r) opens.set(boltKey, (r = simulateOpen(file, line)));
      let boot: DbBoot;
      if (!r.ok) {
        // freepages' goroutine panics while the main one runs on: what it dies of next races it.
        let races: DbRace | undefined = r.racesWith ? { open: r.racesWith } : undefined;
        if (!races && r.view && r.meta) {
          const next = restoreOf(boltKey, r.view, r.meta.root, unmarshal, strictBucketKeys);
          if (next) races = { restore: next };
        }
        boot = { kind: 'fails', failure: r.failure, ...(races ? { racesWith: races } : {}) };
      }
      else if (r.newDb) boot = { kind: 'new' };
      else {
        const restore = restoreOf(boltKey, r.view, r.meta.root, unmarshal, strictBucketKeys);
        boot = { kind: 'opens', consistentIndex: bootMeta?.consistentIndex ?? 0n, clusterVersion: bootMeta?.clusterVersion, storageVersion: bootMeta?.storageVersion, voters: dbVoters, members: dbMembers, restore };
      }
      const clean = r.ok && (r.newDb || (r.metaFallback === undefined && boot.kind === 'opens' && boot.restore === undefined));
      byBehaviour.set(key, { boot, clean, unmarshal });
      return boot;
    };
    const boots = new Map<EtcdVersion, DbBoot>();
    for (const v of ['3.5', '3.6', '3.7', '3.4'] as const) boots.set(v, bootOf(v));
    step.facts = { present: true, boot: (v) => boots.get(v)! };
    if (ledger && fed) {
      const r = ledger.result();
      if (r.mismatches > 0 && db.meta !== undefined) ledger.nameMismatches(r, db.items('key'));
      step.reconciliation = r;
    }
  } finally {
    opened.close();
  }
  return step;
}
