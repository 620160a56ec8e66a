/**
 * The words for the analysis's findings: one line each, saying where (file, byte offset, record),
 * what was expected and what was found. Shared by inspect, verify, the verdict's headline, `--json`
 * (each finding's `message`) and the terminal UI.
 */
import { stallHead, stallText } from '../../inspect/etcd-texts.js';
import type { Finding, FindingJson, StallJson } from '../../inspect/finding.js';
import type { Stall } from '../../inspect/predict.js';

function hexCrc(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** The 64-bit length word as etcd's decoder reads it, in 16 hex digits. */
function hexWord(decimal: string): string {
  return `0x${BigInt(decimal).toString(16).padStart(16, '0')}`;
}

/** `, index a..b` when there are entries. */
function range(f: { firstIndex: string | null; lastIndex: string | null }): string {
  return f.firstIndex !== null ? `, index ${f.firstIndex}..${f.lastIndex}` : '';
}

function stallOf(s: StallJson): Stall {
  switch (s.code) {
    case 'no-voters':
      return s;
    case 'not-a-voter':
      return { code: s.code, memberId: BigInt(s.memberId), voters: s.voters.map((v) => BigInt(v)) };
    case 'db-ahead':
      return { code: s.code, consistentIndex: BigInt(s.consistentIndex), lastIndex: BigInt(s.lastIndex), timeouts: s.timeouts };
  }
}

/** What not applying the entries up to the db's index does to clients, by release line (checked on 3.5.30 and 3.6.16). */
function aheadEffect(v: string, gap: bigint): string {
  // The new leader's empty entry takes the first index after the log.
  if (gap <= 1n) return ': only the new leader\'s empty entry, nothing a client wrote';
  // 3.4/3.5 serve at once (their member is published through the v2 store, applied whatever the
  // index): the writes that land there time out, and are not applied.
  if (v === '3.4' || v === '3.5') return ': client writes landing there time out (etcdserver: request timed out) and are dropped';
  // 3.6+ serve only once the member is published, and the first attempt that lands above the db's index does that.
  return ': etcd serves only after that (see below), so no client write is dropped';
}

/** Records etcd's decoder reads as valid after a zeroed sector: not a write cut short. */
const ZEROED_INSIDE = '; but valid records follow, so this is zeroed data inside the log, not a write cut short';
const TWO_PROCESSES = 'this log looks written by two processes';

/** One finding in one line. */
export function findingMessage(f: Finding): string {
  switch (f.code) {
    // how a segment's good data ends
    case 'torn-tail': {
      const at = `${f.file} at byte ${f.offset} (record ${f.recordNo})`;
      switch (f.kind) {
        case 'cut-short':
          return `${at}: the file ends inside this record: it needs ${f.recBytes} bytes + ${f.padBytes} padding, only ${f.available} remain (a write cut short, as by a power loss)`;
        case 'zero-sector-undecodable':
          return `${at}: torn write by etcd's rule — the record does not decode and a 512-byte sector of it is all zeros${f.validRecordsFollow ? ZEROED_INSIDE : ''}`;
        case 'zero-sector-crc':
          return `${at}: torn write by etcd's rule — crc ${hexCrc(f.computed)} computed, ${hexCrc(f.stored)} stored, and a 512-byte sector of the record is all zeros${f.validRecordsFollow ? ZEROED_INSIDE : ''}`;
      }
    }
    case 'truncated-record':
      return `${f.file} at byte ${f.offset} (record ${f.recordNo}): the file ends inside this record: it needs ${f.recBytes} bytes + ${f.padBytes} padding, only ${f.available} remain`;
    case 'crc-mismatch':
      return `${f.file} at byte ${f.offset} (record ${f.recordNo}): crc mismatch, expected ${hexCrc(f.stored)} computed ${hexCrc(f.computed)}`;
    case 'record-decode-error':
      return `${f.file} at byte ${f.offset} (record ${f.recordNo}): ${f.recBytes}-byte record does not decode (${f.failure} at byte ${f.at} of the record)`;
    case 'oversized-length':
      switch (f.kind) {
        case 'past-eof':
          return `${f.file} at byte ${f.offset} (record ${f.recordNo}): length word ${hexWord(f.lengthWord)} claims ${f.recBytes} bytes + ${f.padBytes} padding but only ${f.available} bytes remain${f.wellFormed ? '' : ' (not a length etcd writes: garbage)'}`;
        case 'over-legacy-limit':
          return `${f.file} at byte ${f.offset} (record ${f.recordNo}): length word claims ${f.recBytes} bytes, over the 10 MiB etcd 3.4 accepts, and what follows does not decode${f.zeroSector ? ' (zeros: a torn write)' : ''}`;
      }
    case 'truncated-length-word':
      return `${f.file} at byte ${f.offset} (record ${f.recordNo}): file ends ${f.available} byte(s) into an 8-byte length word`;
    case 'crc-chain-broken':
      return `${f.file} at byte ${f.offset} (record ${f.recordNo}): crc record holds ${hexCrc(f.stored)} but the chain from the previous segment ends at ${hexCrc(f.running)}`;
    case 'garbage-after-end':
      return `${f.file}: non-zero bytes at byte ${f.offset}, after the end of the log at byte ${f.endOffset}; etcd ignores them${f.lastSegment ? ' and zero-fills them on its next start' : ''}`;
    case 'records-hidden-after-zero-length':
      switch (f.kind) {
        case 'segment':
          return `${f.file} at byte ${f.offset}: a zero length word ends the data, but ${f.records} record(s) follow (first at byte ${f.firstRecordOffset}); etcd silently skips them`;
        case 'boot':
          return f.unchained
            ? `${f.file} at byte ${f.offset}: etcd ${f.etcdVersion} stops reading at a zero length word and starts without the ${f.records} record(s) after it (${f.entries} entries${range(f)}, the log's next, never applied to the db; the record before them is destroyed, so their CRC chain cannot be checked): if they are what they look like, their writes would be silently dropped`
            : `${f.file} at byte ${f.offset}: etcd ${f.etcdVersion} stops reading at a zero length word and starts without the ${f.records} valid record(s) after it (${f.entries} entries${range(f)}${f.committed > 0 ? `, ${f.committed} of them acknowledged as committed` : ''}): they would be silently dropped`;
      }
    case 'valid-records-after-damage':
      return `${f.file}: ${f.records} record(s) after the damage at byte ${f.damageOffset} still carry a valid CRC chain (${f.entries} entries${range(f)}); truncating there loses them`;
    case 'empty-segment':
      return `${f.file}: 0 bytes (a segment always starts with a crc record)`;

    // the log as a whole
    case 'no-wal':
      return 'no *.wal segment: etcd would start a brand-new empty member on this dir';
    case 'segment-seq-gap':
      return `${f.file}: sequence ${f.seq} follows ${f.prevSeq}; segment(s) in between are missing`;
    case 'segment-name-index-mismatch':
      return `${f.file}: named for index ${f.nameIndex} but its first entry is ${f.firstIndex} (entries were overwritten by a new leader)`;
    case 'entry-index-gap':
      return `${f.file} at byte ${f.offset}: entry ${f.index} follows entry ${f.prevIndex}`;
    case 'log-overwrite':
      return `${f.file} at byte ${f.offset}: entry ${f.index} (term ${f.term}) replaces the log after ${f.prevLastIndex} (term ${f.prevLastTerm}): a new leader overwrote uncommitted entries`;
    case 'term-regression':
      return `${f.file} at byte ${f.offset}: entry ${f.index} has term ${f.term}, below the previous term ${f.prevTerm}`;
    case 'metadata-conflict':
      return `${f.file} at byte ${f.offset}: metadata says member ${f.memberId} cluster ${f.clusterId}, the first said ${f.firstMemberId} ${f.firstClusterId} (etcd: wal: conflicting metadata found)`;
    case 'two-writers':
      switch (f.kind) {
        case 'same-seq':
          return `${f.file}: sequence ${f.seq} was already used by ${f.otherSegment}: two segment files with one sequence number — ${TWO_PROCESSES}`;
        case 'metadata':
          return `${f.file} at byte ${f.offset}: a metadata record of member ${f.memberId} cluster ${f.clusterId} inside a log started by member ${f.logMemberId} cluster ${f.logClusterId} — ${TWO_PROCESSES}`;
        case 'term-regression':
          return `${f.file} at byte ${f.offset}: entry ${f.index} has term ${f.term} after term ${f.prevTerm} with no higher-term overwrite (raft never lowers a term) — ${TWO_PROCESSES}`;
        case 'fresh-chain': {
          const ids = f.sameIds ? ', the same IDs as the log' : f.logMemberId !== null ? `; the log is member ${f.logMemberId}` : '';
          const ents = f.entries > 0 ? `, ${f.entries} entries index ${f.firstIndex}..${f.lastIndex}` : '';
          const resumes = f.resumesAt !== null ? `; other records resume at byte ${f.resumesAt}` : '';
          return `${f.file} at byte ${f.offset}: a second writer's records start here — a fresh CRC chain (crc record, then metadata of member ${f.memberId} cluster ${f.clusterId} at byte ${f.metadataOffset}${ids}; ${f.records} records on that chain${ents})${resumes} — ${TWO_PROCESSES}, not just damaged`;
        }
        case 'foreign-metadata':
          return `${f.file} at byte ${f.offset}: past the damage, a metadata record of member ${f.memberId} cluster ${f.clusterId} in a log of member ${f.logMemberId} cluster ${f.logClusterId} — ${TWO_PROCESSES}`;
        case 'index-rewind':
          return `${f.file} at byte ${f.offset}: the valid records after the damage at byte ${f.damageOffset} start again at index ${f.firstIndex}, at or below the last entry before it (${f.lastIndexBefore}) — ${TWO_PROCESSES}, not just damaged`;
      }
    case 'no-metadata':
      return 'no metadata record: member and cluster IDs are unknown';
    case 'unknown-record-type':
      return `${f.file} at byte ${f.offset}: record type ${f.type} (etcd: unexpected block type ${f.type})`;
    case 'undecodable-payload':
      return `${f.file} at byte ${f.offset}: the CRC matches but the payload of this type-${f.type} record does not decode: ${f.error}`;

    // files beside the log
    case 'leftover-tmp':
      return `${f.file}: leftover temporary ${f.isDir ? 'directory' : 'file'} (${f.size} bytes) from an interrupted operation; etcd ignores or deletes it`;
    case 'broken-copy':
      return `${f.file}: a copy etcd set aside after finding damage (it never reads or deletes it); keep it until the cluster is healthy`;
    case 'unknown-file':
      switch (f.kind) {
        case 'unknown':
          return `${f.file}: not a file etcd writes here`;
        case 'not-regular':
          return `${f.file}: is ${f.is ?? 'not a regular file'} where etcd keeps ${f.etcdKeeps ?? 'a file'}; not read (etcd fails or hangs opening it): move it away`;
      }
    case 'snap-file-broken':
      return `${f.file}: ${f.error}; etcd renames it to ${f.name}.broken at boot and looks for an older snapshot`;
    case 'snap-without-wal-record':
      return `${f.file}: no WAL snapshot record has term ${f.term} index ${f.index}; etcd never loads it (a crash between writing the .snap and the WAL record leaves this)`;
    case 'snap-name-mismatch':
      return `${f.file}: the name says term ${f.nameTerm} index ${f.nameIndex} but the metadata inside says term ${f.term} index ${f.index}`;

    // the db and the invariants between the stores
    case 'db-missing':
      return f.rebuiltFromWal
        ? 'member/snap/db is missing: etcd creates an empty one and rebuilds the keyspace by replaying the WAL from index 1'
        : 'member/snap/db is missing: the v3 keyspace lives there; etcd can rebuild it only by replaying a WAL that starts at index 1, with no .snap file to load';
    case 'db-damaged':
      switch (f.kind) {
        case 'reader':
          return `${f.file}: ${f.problems} problem(s) in the bbolt file, first: ${f.firstCode} at byte ${f.offset}`;
        case 'integrity':
          return `${f.file}: bbolt's integrity check finds ${f.errors} error(s) (etcdutl snapshot status would refuse this file), first: ${f.firstCode ?? '?'} at byte ${f.offset}`;
        case 'sha256-trailer':
          return `${f.file}: the SHA-256 trailer of this snapshot file does not match its contents (stored ${f.stored ?? '?'}, computed ${f.computed ?? '?'})`;
        case 'open':
          return `${f.file}: etcd ${f.etcdVersion}'s bbolt cannot open it: ${f.error}`;
        case 'restore':
          return `${f.file}: etcd ${f.etcdVersion} opens it but dies reading it back: ${f.failure}${f.error !== null ? ` (${f.error})` : ''}`;
      }
    case 'db-ahead-of-wal':
      switch (f.kind) {
        case 'cut':
          return `the db has applied up to raft index ${f.consistentIndex} but the WAL is good only up to index ${f.lastIndex}: cut there, the log would end behind the db, and etcd would not apply the entries it appends until their index passes ${f.consistentIndex}`;
        case 'boot':
          return `the db has applied up to raft index ${f.consistentIndex} but the usable WAL ends at ${f.lastIndex}: etcd ${f.etcdVersion} would start and not apply the entries it appends until their index passes ${f.consistentIndex}${aheadEffect(f.etcdVersion, BigInt(f.consistentIndex) - BigInt(f.lastIndex))}`;
      }
    case 'db-index-above-commit':
      return `db consistent index ${f.consistentIndex} is above the last HardState commit ${f.commit} in the WAL (commit-only HardStates are not always synced; the WAL may also have lost its tail)`;
    case 'db-term-ahead':
      return `db term ${f.term} is above the WAL's last term ${f.walTerm}`;
    case 'db-holds-next-write':
      return `the db says it applied up to index ${f.consistentIndex}, but its newest revision is the write of entry ${f.index}: its consistent index is older than its keys (a power cut's stale page); etcd would apply that write again and serve the key at a revision and version nobody wrote`;
    case 'db-term-mismatch':
      return `the db says it applied up to index ${f.consistentIndex} at term ${f.term}, but the WAL's entry ${f.consistentIndex} is at term ${f.walTerm}: the db's consistent index and its keys are from different moments (a power cut's torn page) or from another history; etcd would apply again, over the db, entries it already holds`;
    case 'db-behind-snapshot':
      return `db consistent index ${f.consistentIndex} is below the snapshot etcd will load (${f.snapshot}, index ${f.snapshotIndex})`;
    case 'commit-beyond-last-index':
      return `the last HardState commits index ${f.commit} but the usable log ends at ${f.lastIndex}`;
    case 'etcd-repair-drops-valid-records':
      return `etcd ${f.etcdVersion}'s own repair would truncate ${f.segment} at byte ${f.truncateAt} and throw away ${f.records} valid record(s) after the damage (${f.entries} entries${range(f)}): do not let etcd repair this by itself`;
    case 'etcd-will-fail':
      return `etcd ${f.etcdVersion} will not start: ${f.error}${f.log && f.log !== f.error ? ` (log: ${f.log})` : ''}${f.entryIndex !== null ? ` — entry ${f.entryIndex}` : ''}`;
    case 'etcd-will-stall':
      return `etcd ${f.etcdVersion} starts but ${stallHead(stallOf(f.stall))}: ${stallText(stallOf(f.stall))}`;
    case 'etcd-running':
      return `${f.file} is held by ${f.command ?? 'a process'}${f.pid !== null ? ` (pid ${f.pid})` : ''}: etcd is running on this dir now; its files change under this analysis`;
    case 'db-wal-mismatch': {
      const first = f.first ? `, first ${f.first.key}: the log's last write to it (index ${f.first.index}) is not what the db holds (${f.first.db === 'absent' ? 'nothing' : 'another value'})` : '';
      return `the db and the WAL disagree on ${f.mismatches} key(s) the log wrote at indexes the db has applied (≤ ${f.consistentIndex})${first}: two histories in one data dir (a second etcd on the same WAL, a db from another member or time) or a value changed on disk`;
    }
    case 'alarm-raised':
      return f.alarm === 'unreadable'
        ? `the db's alarm bucket holds a key that is not an AlarmMember: etcd fails reading its alarms back at boot`
        : `the ${f.alarm} alarm (raised by member ${f.memberId}${f.index !== null ? ` in WAL entry ${f.index}, which etcd applies again at boot` : ', kept in the db'}) stays raised when etcd starts: it serves reads, refuses every write (${f.alarm === 'NOSPACE' ? 'etcdserver: mvcc: database space exceeded' : 'etcdserver: corrupt cluster'}) and answers /health with false (ALARM ${f.alarm}) until the alarm is disarmed`;
    case 'behind-cluster':
      return `this member's log ends at index ${f.lastIndex} but the cluster committed ${f.commit} (${f.peer}): put back from an older copy, it makes raft panic (tocommit(${f.commit}) is out of range [lastIndex(${f.lastIndex})]) when the leader still remembers it further ahead; only a member that was merely stopped catches up`;
  }
  return unreachable(f);
}

function unreachable(f: never): never {
  throw new Error(`no words for finding ${JSON.stringify(f)}`);
}

/** A finding as `--json` prints it: its fields, with its words as `message` after code and severity. */
export function findingJson(f: Finding): FindingJson {
  // code and severity first: the key order the report has always had.
  return Object.assign({ code: f.code, severity: f.severity, message: findingMessage(f) }, f);
}
