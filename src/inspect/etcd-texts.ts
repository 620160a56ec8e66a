/**
 * What etcd prints when it dies on a `BootFailure`, release line by release line: the error value
 * and the log message of the fatal (zap) entry, and for 3.4's default capnslog logger the fatal
 * line itself. These are etcd's words, recorded from real 3.4.23 / 3.5.30 / 3.6 / 3.7 runs or read
 * in their source; tests compare them, exactly, with recorded boots. Our own wording lives in
 * cli/render.
 */
import { openFailureText, BOLT_1_3_6, BOLT_1_4, BOLT_1_5, type BoltLine, type OpenFailure } from '../format/bbolt/open-sim.js';
import { restoreFailureText, type RestoreFailure } from '../format/bbolt/etcd-restore.js';
import { recordFailureText } from '../format/wal/record.js';
import { type BootFailure, type DecodeError, type EtcdVersion, PUBLISH_TIMEOUT_S, type Stall, type UnexpectedEof } from './predict.js';
import type { ApplyProblem } from './apply-check.js';

export interface EtcdSays {
  /** The error: zap's `error` field, or the value of a Go panic. */
  error: string;
  /**
   * zap's `msg` of the first fatal/panic entry. A Go panic with no zap entry (bbolt's assertions,
   * its freepages goroutine) is `panic`; a memory fault `fatal error: fault`.
   */
  log: string | null;
  /** 3.4 under its default capnslog logger: the first fatal line without its timestamp. */
  capnslog?: string;
  /**
   * When the failure is a panic in another goroutine (bbolt's freepages check), the main goroutine
   * runs on and may die first of this: which one etcd prints is a race.
   */
  orElse?: EtcdSays;
}

/** Which bbolt each line links (Debian's 3.5.30 build links 1.4.3; upstream 3.5 binaries 1.3.12). */
export const BOLT_OF: Record<EtcdVersion, BoltLine> = { '3.4': BOLT_1_3_6, '3.5': BOLT_1_4, '3.6': BOLT_1_4, '3.7': BOLT_1_5 };

const minor = (v: EtcdVersion) => Number(v.split('.')[1]);

export function decodeErrorText(e: DecodeError, v: EtcdVersion): string {
  switch (e.kind) {
    case 'max-entry-size':
      return 'wal: max entry size limit exceeded';
    case 'record':
      return recordFailureText(e.failure);
    case 'crc-mismatch':
      return minor(v) >= 6
        ? `walpb: crc mismatch: expected: ${e.stored.toString(16)} computed: ${e.computed.toString(16)}: in file '${e.segment}' at position: ${e.offset}`
        : 'walpb: crc mismatch';
    case 'crc-link-mismatch':
      return minor(v) >= 6 ? 'walpb: crc mismatch' : 'wal: crc mismatch';
  }
}

/** The error of "repaired WAL" (and of the failure when repair cannot help). */
export function eofText(e: UnexpectedEof, v: EtcdVersion): string {
  if (e.kind === 'plain' || v === '3.4') return 'unexpected EOF';
  if (e.kind === 'torn-crc') return `unexpected EOF: in file '${e.segment}' at position: ${e.offset}`;
  const verb = minor(v) >= 6 ? 'reading' : 'decoding';
  return `unexpected EOF: [wal] max entry size limit exceeded when ${verb} "${e.segment}", recBytes: ${e.recBytes}, fileSize(${e.fileSize}) - offset(${e.offset}) - padBytes(${e.padBytes}) = entryLimit(${e.limit})`;
}

export function failureText(f: BootFailure, v: EtcdVersion, dataDir: string): EtcdSays {
  const bolt = BOLT_OF[v];
  const is34 = v === '3.4';
  switch (f.code) {
    case 'no-wal':
      return { error: 'no WAL segment', log: null };
    case 'downgrade': {
      const error = 'invalid downgrade; server version is lower than determined cluster version';
      return { error, log: error, ...(is34 ? { capnslog: `C | etcdserver/membership: cluster cannot be downgraded (current version: 3.4.23 is lower than determined cluster version: ${f.clusterVersion.split('.').slice(0, 2).join('.')}).` } : {}) };
    }
    case 'db-open': {
      const says = openSays(f.failure, bolt, dataDir, is34);
      if (f.racesWith) says.orElse = 'open' in f.racesWith ? openSays(f.racesWith.open, bolt, dataDir, is34) : restoreSays(f.racesWith.restore, bolt, v);
      return says;
    }
    case 'wal-decode': {
      const error = decodeErrorText(f.error, v);
      if (f.phase === 'discovery') return { error, log: 'discovery failed', ...(is34 ? { capnslog: `C | etcdmain: ${error}` } : {}) };
      return { error, log: 'failed to read WAL, cannot be repaired', ...(is34 ? { capnslog: `C | etcdserver: read wal error (${error}) and cannot be repaired` } : {}) };
    }
    case 'wal-repair': {
      const error = eofText(f.eof, v);
      return { error, log: 'failed to repair WAL', ...(is34 ? { capnslog: `C | etcdserver: WAL error (${error}) cannot be repaired` } : {}) };
    }
    case 'wal-eof-not-last': {
      const error = eofText(f.eof, v);
      return { error, log: 'failed to read WAL, cannot be repaired', ...(is34 ? { capnslog: `C | etcdserver: read wal error (${error}) and cannot be repaired` } : {}) };
    }
    case 'snap-db-missing': {
      const error = "failed to find database snapshot file (snap: snapshot file doesn't exist)";
      return { error, log: 'failed to recover v3 backend from snapshot', ...(is34 ? { capnslog: `C | etcdserver: recovering backend from snapshot error: ${error}` } : {}) };
    }
    case 'wal-not-found': {
      const error = minor(v) >= 6 ? `openAtIndex failed: [openAtIndex] selectWALFiles failed: wal: file not found which matches the snapshot index '${f.index}'` : 'wal: file not found';
      return { error, log: 'failed to open WAL', ...(is34 ? { capnslog: `C | etcdserver: open wal error: ${error}` } : {}) };
    }
    case 'wal-seq-gap': {
      const error = minor(v) >= 6 ? `openAtIndex failed: [openAtIndex] selectWALFiles failed: wal: file sequence numbers (starting from ${f.nameIndex}) do not increase continuously` : 'wal: file not found';
      return { error, log: 'failed to open WAL', ...(is34 ? { capnslog: `C | etcdserver: open wal error: ${error}` } : {}) };
    }
    case 'storage-version':
      return { error: `version "${f.storageVersion}" is not supported`, log: 'discovery failed' };
    case 'wal-record-unmarshal': {
      const text = `unmarshal should never fail (${f.error})`;
      return { error: text, log: 'panic', ...(is34 ? { capnslog: `panic: ${text}` } : {}) };
    }
    case 'wal-block-type':
      return readFailure(`unexpected block type ${f.recordType}`, is34);
    case 'wal-metadata-conflict':
      return readFailure('wal: conflicting metadata found', is34);
    case 'wal-slice-bounds':
      return readFailure(
        minor(v) >= 6 && f.entry
          ? `wal: slice bounds out of range, snapshot[Index: ${f.snapshot.index}, Term: ${f.snapshot.term}], current entry[Index: ${f.entry.index}, Term: ${f.entry.term}], len(ents): ${f.entries}`
          : 'wal: slice bounds out of range',
        is34,
      );
    case 'wal-snapshot-not-found':
      return readFailure('wal: snapshot not found', is34);
    case 'wal-snapshot-mismatch':
      return readFailure('wal: snapshot mismatch', is34);
    case 'commit-out-of-range': {
      // raft's %x of the node ID (no padding); zap's raft logger puts the whole text in msg.
      const id = f.memberId === undefined ? '0' : f.memberId.toString(16);
      const text = `${id} state.commit ${f.commit} is out of range [${f.first}, ${f.last}]`;
      return { error: text, log: text, ...(is34 ? { capnslog: `P | raft: ${text}` } : {}) };
    }
    case 'db-restore':
      return restoreSays(f.failure, bolt, v);
    case 'apply-fails':
      return applySays(f.problem, v);
    case 'conf-change-refused':
      // raft's own panic() in its node goroutine: no zap entry before it
      return { error: 'removed all voters', log: 'panic' };
  }
}

function applySays(p: ApplyProblem, v: EtcdVersion): EtcdSays {
  const is34 = v === '3.4';
  // A zap Panic logs its own message first; a bare Go panic() has no zap entry: 3.4/3.5 print it
  // as `panic: ...`, 3.6+ apply in a scheduled job that logs `execute job failed` with the panic.
  const bare = v === '3.4' || v === '3.5' ? 'panic' : 'execute job failed';
  switch (p.kind) {
    case 'unknown-type': {
      const text = 'unknown entry type; must be either EntryNormal or EntryConfChange';
      return { error: text, log: text, ...(is34 ? { capnslog: 'C | etcdserver: entry type should be either EntryNormal or EntryConfChange' } : {}) };
    }
    case 'undecodable': {
      const text = `unmarshal should never fail (${p.error})`;
      // 3.4's pbutil.MustUnmarshal panics through its capnslog logger, whatever --logger says:
      // `C | pkg/pbutil: unmarshal should never fail (...)` comes first, then the Go panic
      if (is34) return { error: text, log: 'pkg/pbutil', capnslog: `C | pkg/pbutil: ${text}` };
      return { error: text, log: bare };
    }
    case 'v2-disallowed': {
      const text = 'detected disallowed v2 WAL for stage --v2-deprecation=write-only';
      return { error: text, log: text };
    }
    case 'no-header': {
      const text = v === '3.7' ? 'Apply, could not find a header' : 'applyEntryNormal, could not find a header';
      return { error: text, log: text };
    }
  }
}

function openSays(f: OpenFailure, bolt: BoltLine, dataDir: string, is34: boolean): EtcdSays {
  const error = openFailureText(f, bolt);
  switch (f.code) {
    case 'invalid-database':
    case 'file-size-too-small':
    case 'meta-invalid':
      return { error, log: 'failed to open database', ...(is34 ? { capnslog: `C | mvcc/backend: cannot open database at ${dataDir}/member/snap/db (${error})` } : {}) };
    case 'fault':
      return { error: 'signal SIGBUS: bus error', log: 'fatal error: fault', ...(is34 ? { capnslog: 'fatal error: fault' } : {}) };
    case 'stack-overflow':
      return { error: 'stack overflow', log: 'fatal error: stack overflow', ...(is34 ? { capnslog: 'fatal error: stack overflow' } : {}) };
    default:
      return { error, log: 'panic', ...(is34 ? { capnslog: `panic: ${error}` } : {}) };
  }
}

function restoreSays(f: RestoreFailure, bolt: BoltLine, v: EtcdVersion): EtcdSays {
  if (f.code === 'read') return openSays(f.failure, bolt, '', false);
  const t = restoreFailureText(f, bolt, minor(v));
  return { error: t.error, log: t.log };
}

function readFailure(error: string, is34: boolean): EtcdSays {
  return { error, log: 'failed to read WAL, cannot be repaired', ...(is34 ? { capnslog: `C | etcdserver: read wal error (${error}) and cannot be repaired` } : {}) };
}

/** What a stalled member shows: it runs, and /health says false (for good, or for a while). */
export function stallText(s: Stall): string {
  switch (s.code) {
    case 'no-voters':
      return 'no voters in the conf state: raft never elects a leader';
    case 'not-a-voter':
      return `member ${s.memberId.toString(16)} is not a voter of its own conf state: it never campaigns`;
    case 'db-ahead':
      return `the db has applied up to ${s.consistentIndex} but the log ends at ${s.lastIndex}: each attempt to publish the member through raft takes an index the db has applied, is not applied, and times out after ${PUBLISH_TIMEOUT_S} s (failed to publish local member to cluster through raft: etcdserver: request timed out); the first above ${s.consistentIndex} succeeds`;
  }
}

/** How a stalled member's wait reads: "never serves", or how long until it does. */
export function stallHead(s: Stall): string {
  if (s.code !== 'db-ahead') return 'never serves';
  return `serves nothing for about ${waitWords(s.timeouts * PUBLISH_TIMEOUT_S)} (${s.timeouts} publish attempt${s.timeouts === 1 ? '' : 's'} time${s.timeouts === 1 ? 's' : ''} out first)`;
}

function waitWords(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
