/**
 * A finding: one problem or notable fact of the analysis, as data. A union keyed by `code`; each
 * code carries the values its wording needs (indexes, offsets, CRCs, counts, names), and a code
 * that arises in more than one way says which by `kind`. No sentences here: the words are
 * cli/render/findings.ts's `findingMessage`, and `--json` adds them to each finding as `message`.
 *
 * As everywhere in the report, uint64 values (indexes, terms, sequence numbers) are decimal strings
 * and member/cluster IDs 16-digit hex; CRC-32s are numbers.
 */
import { z } from 'zod';

export const U64 = z.string().regex(/^\d+$/).describe('unsigned 64-bit integer as a decimal string');
export const Hex16 = z.string().regex(/^[0-9a-f]{16}$/).describe('64-bit ID as 16 lower-case hex digits, as etcd prints it');
const Crc = z.number().int().nonnegative().describe('CRC-32C');
const EtcdVersion = z.enum(['3.4', '3.5', '3.6', '3.7']);
const Severity = z.enum(['error', 'warning', 'info']);

/** Why etcd runs but does not serve (predict.ts Stall), uint64s as decimal strings. */
export const StallJson = z.discriminatedUnion('code', [
  z.object({ code: z.literal('no-voters') }),
  z.object({ code: z.literal('not-a-voter'), memberId: U64, voters: z.array(U64) }),
  z.object({ code: z.literal('db-ahead'), consistentIndex: U64, lastIndex: U64, timeouts: z.number().int().describe('publish attempts that time out (7 s each) before etcd serves') }),
]);
export type StallJson = z.infer<typeof StallJson>;

/**
 * Every variant, built on a common shape: the report's (no words) or `--json`'s (plus `message`).
 * The common fields say where (file, byte offset, record number) and what was expected and found.
 */
function variants<C extends z.ZodRawShape>(extra: C) {
  const common = {
    severity: Severity,
    file: z.string().optional().describe('path relative to the inspected root'),
    offset: z.number().int().nonnegative().optional().describe('byte offset in the file'),
    recordNo: z.number().int().nonnegative().optional().describe('0-based record number in the segment'),
    expected: z.string().optional(),
    found: z.string().optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    ...extra,
  };
  /** A length word's N: exact below 2^53; beyond that (only damage writes such words) `lengthWord` is exact. */
  const recBytes = z.number().nonnegative().describe('bytes the length word claims');
  /** A variant located in a file. */
  const at = { file: z.string(), offset: z.number().int().nonnegative() };
  /** A variant located at a record of a segment. */
  const rec = { ...at, recordNo: z.number().int().nonnegative() };
  const o = <K extends string, S extends z.ZodRawShape>(code: K, shape: S) => z.object({ code: z.literal(code), ...common }).extend(shape);
  /** An entry range, when there are entries. */
  const range = { firstIndex: U64.nullable(), lastIndex: U64.nullable() };

  return z.discriminatedUnion('code', [
    // how a segment's good data ends
    z.discriminatedUnion('kind', [
      o('torn-tail', { ...rec, kind: z.literal('cut-short'), recBytes: z.number().int(), padBytes: z.number().int(), available: z.number().int() }).describe('the last segment ends inside a record'),
      o('torn-tail', { ...rec, kind: z.literal('zero-sector-undecodable'), validRecordsFollow: z.boolean() }).describe('the record does not decode and a 512-byte sector of it is zeros'),
      o('torn-tail', { ...rec, kind: z.literal('zero-sector-crc'), stored: Crc, computed: Crc, validRecordsFollow: z.boolean() }).describe('the CRC does not match and a 512-byte sector of the record is zeros'),
    ]),
    o('crc-mismatch', { ...rec, stored: Crc, computed: Crc }),
    o('record-decode-error', { ...rec, recBytes: z.number().int(), failure: z.string().describe('how the walpb.Record fails to decode'), at: z.number().int().describe('byte of the record where it fails') }),
    z.discriminatedUnion('kind', [
      o('oversized-length', { ...rec, kind: z.literal('past-eof'), lengthWord: U64.describe('the 64-bit length word'), recBytes, padBytes: z.number().int(), available: z.number().int(), wellFormed: z.boolean().describe('a length word etcd can have written') }),
      o('oversized-length', { ...rec, kind: z.literal('over-legacy-limit'), recBytes, zeroSector: z.boolean() }).describe('over the 10 MiB etcd 3.4 accepts, and what follows does not decode'),
    ]),
    o('truncated-record', { ...rec, recBytes: z.number().int(), padBytes: z.number().int(), available: z.number().int() }),
    o('truncated-length-word', { ...rec, available: z.number().int() }),
    o('crc-chain-broken', { ...rec, stored: Crc, running: Crc.describe('where the chain from the previous segment ends') }),
    o('garbage-after-end', { ...rec, endOffset: z.number().int().describe('the zero length word that ends the log'), lastSegment: z.boolean() }),
    z.discriminatedUnion('kind', [
      o('records-hidden-after-zero-length', { ...rec, kind: z.literal('segment'), records: z.number().int(), firstRecordOffset: z.number().int(), nonZeroAt: z.number().int() }).describe('seen in the segment'),
      o('records-hidden-after-zero-length', { ...at, kind: z.literal('boot'), etcdVersion: EtcdVersion, records: z.number().int(), entries: z.number().int(), ...range, committed: z.number().int(), unchained: z.boolean().describe('the record before them is destroyed: their CRC chain cannot be checked') }).describe('what etcd does at boot'),
    ]),
    o('valid-records-after-damage', { ...at, damageOffset: z.number().int(), records: z.number().int().describe('records on a valid CRC chain'), entries: z.number().int(), ...range }),
    o('empty-segment', { file: z.string() }),
    // the log as a whole
    o('no-wal', { file: z.string() }),
    o('segment-seq-gap', { file: z.string(), seq: U64, prevSeq: U64 }),
    o('segment-name-index-mismatch', { file: z.string(), nameIndex: U64, firstIndex: U64 }),
    o('entry-index-gap', { ...at, index: U64, prevIndex: U64 }),
    o('log-overwrite', { ...at, index: U64, term: U64, prevLastIndex: U64, prevLastTerm: U64 }),
    o('term-regression', { ...at, index: U64, term: U64, prevTerm: U64 }),
    o('metadata-conflict', { ...at, memberId: Hex16, clusterId: Hex16, firstMemberId: Hex16, firstClusterId: Hex16 }),
    z.discriminatedUnion('kind', [
      o('two-writers', { file: z.string(), offset: z.literal(0), kind: z.literal('same-seq'), seq: U64, segment: z.string(), otherSegment: z.string().describe('the file that used the sequence first') }),
      o('two-writers', { ...at, kind: z.literal('metadata'), memberId: Hex16, clusterId: Hex16, logMemberId: Hex16, logClusterId: Hex16 }).describe('a metadata record of another member inside the log'),
      o('two-writers', { ...at, kind: z.literal('term-regression'), index: U64, term: U64, prevTerm: U64 }),
      o('two-writers', {
        ...at,
        kind: z.literal('fresh-chain'),
        memberId: Hex16,
        clusterId: Hex16,
        metadataOffset: z.number().int(),
        logMemberId: Hex16.nullable(),
        sameIds: z.boolean(),
        records: z.number().int().describe('records on the new chain'),
        entries: z.number().int(),
        ...range,
        resumesAt: z.number().int().nullable().describe('where records of the other chain resume'),
      }).describe('a crc record past byte 0 and a metadata record chaining from it: a second chain'),
      o('two-writers', { ...at, kind: z.literal('foreign-metadata'), memberId: Hex16, clusterId: Hex16, logMemberId: Hex16, logClusterId: Hex16 }).describe('past the damage, a metadata record of another member'),
      o('two-writers', { ...at, kind: z.literal('index-rewind'), damageOffset: z.number().int(), firstIndex: U64, lastIndexBefore: U64 }).describe('the records after the damage start again at or below the last entry before it'),
    ]),
    o('no-metadata', {}),
    o('unknown-record-type', { ...at, type: z.number().int() }),
    o('undecodable-payload', { ...at, type: z.number().int(), error: z.string().describe("the decoder's error") }),
    // files beside the log
    o('leftover-tmp', { file: z.string(), isDir: z.boolean(), size: z.number().int() }),
    o('broken-copy', { file: z.string() }),
    z.discriminatedUnion('kind', [
      o('unknown-file', { file: z.string(), kind: z.literal('unknown') }),
      o('unknown-file', { file: z.string(), kind: z.literal('not-regular'), is: z.string().nullable().describe('what it is (a FIFO, a directory...)'), etcdKeeps: z.string().nullable().describe('what etcd keeps under this name') }),
    ]),
    o('snap-file-broken', { file: z.string(), name: z.string(), error: z.string().describe("etcd's error for it") }),
    o('snap-without-wal-record', { file: z.string(), term: U64, index: U64 }),
    o('snap-name-mismatch', { file: z.string(), nameTerm: U64, nameIndex: U64, term: U64, index: U64 }),
    // the db and the invariants between the stores
    o('db-missing', { file: z.string(), rebuiltFromWal: z.boolean().describe('etcd creates an empty db and replays the WAL from index 1') }),
    z.discriminatedUnion('kind', [
      o('db-damaged', { ...at, kind: z.literal('reader'), problems: z.number().int(), firstCode: z.string().describe('the first bbolt finding') }).describe("problems the bbolt reader finds"),
      o('db-damaged', { ...at, kind: z.literal('integrity'), errors: z.number().int(), firstCode: z.string().nullable() }).describe("bbolt's integrity check (etcdutl snapshot status) fails"),
      o('db-damaged', { ...at, kind: z.literal('sha256-trailer'), stored: z.string().nullable(), computed: z.string().nullable() }).describe("an `etcdctl snapshot save` file's SHA-256 trailer does not match"),
      o('db-damaged', { ...at, kind: z.literal('open'), etcdVersion: EtcdVersion, error: z.string().describe("bbolt's error") }).describe("the deciding line's bbolt cannot open it"),
      o('db-damaged', { ...at, kind: z.literal('restore'), etcdVersion: EtcdVersion, failure: z.string(), error: z.string().nullable() }).describe('etcd opens it and dies reading it back'),
    ]),
    z.discriminatedUnion('kind', [
      o('db-ahead-of-wal', { file: z.string(), kind: z.literal('cut'), consistentIndex: U64, lastIndex: U64 }).describe('cutting the log at its damage leaves it behind the db'),
      o('db-ahead-of-wal', { file: z.string(), kind: z.literal('boot'), etcdVersion: EtcdVersion, consistentIndex: U64, lastIndex: U64 }).describe('the log etcd reads ends behind the db'),
    ]),
    o('db-index-above-commit', { file: z.string(), consistentIndex: U64, commit: U64 }),
    o('db-term-ahead', { file: z.string(), term: U64, walTerm: U64 }),
    o('db-holds-next-write', { file: z.string(), consistentIndex: U64, index: U64 }).describe("the db's newest revision is what the entry above its consistent index writes: etcd would apply that write again"),
    o('db-term-mismatch', { file: z.string(), consistentIndex: U64, term: U64, walTerm: U64 }).describe("the db records its consistent index at another term than the log's entry at that index: its meta page and its keys are from different moments, or from another history"),
    o('db-behind-snapshot', { file: z.string(), consistentIndex: U64, snapshot: z.string(), snapshotIndex: U64 }),
    o('commit-beyond-last-index', { commit: U64, lastIndex: U64 }),
    o('etcd-repair-drops-valid-records', { etcdVersion: EtcdVersion, segment: z.string().nullable(), truncateAt: z.number().int().nullable(), records: z.number().int(), entries: z.number().int(), ...range }),
    o('etcd-will-fail', { etcdVersion: EtcdVersion, failure: z.string().describe('predict.ts BootFailure code'), error: z.string().describe("etcd's error"), log: z.string().nullable().describe("etcd's fatal log message"), entryIndex: U64.nullable().describe('the entry it cannot apply') }),
    o('etcd-will-stall', { etcdVersion: EtcdVersion, stall: StallJson }),
    o('etcd-running', { file: z.string(), pid: z.number().int().nullable(), command: z.string().nullable() }),
    o('db-wal-mismatch', {
      file: z.string(),
      mismatches: z.number().int(),
      consistentIndex: U64,
      first: z.object({ key: z.string(), index: z.number().int(), db: z.enum(['absent', 'other-value']) }).nullable(),
    }),
    o('behind-cluster', { lastIndex: U64, commit: U64, peer: z.string() }),
    o('alarm-raised', {
      file: z.string(),
      alarm: z.enum(['NOSPACE', 'CORRUPT', 'unreadable']).describe("etcd's alarm type; unreadable: an alarm bucket key that does not unmarshal"),
      memberId: Hex16.describe('the member that raised it'),
      index: U64.nullable().describe('the WAL entry that raises it, when etcd raises it again replaying the log; null: kept in the db'),
    }).describe('etcd keeps this alarm raised when it starts: it serves reads and refuses writes until the alarm is disarmed'),
  ]);
}

export const Finding = variants({}).describe('one problem or notable fact');
export type Finding = z.infer<typeof Finding>;
export type FindingCode = Finding['code'];

/** A finding as `--json` prints it: with its words. */
export const FindingJson = variants({ message: z.string().describe('one line: file, offset, what was expected and what was found') }).describe('one problem or notable fact');
export type FindingJson = z.infer<typeof FindingJson>;
