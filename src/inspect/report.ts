/**
 * The report every read-only command shares, as a zod schema: `--json` prints it, `wal-doctor
 * schema` prints it as JSON Schema, and the TypeScript type comes from it. uint64 values (indexes,
 * terms, IDs, revisions) are decimal strings; member and cluster IDs also appear as 16-digit hex.
 */
import { z } from 'zod';

import { Finding, FindingJson, Hex16, U64 } from './finding.js';
import { REPORT_SCHEMA_VERSION } from './schema-version.js';

export { REPORT_SCHEMA_VERSION, Finding, FindingJson };

const EntryRef = z.object({ index: U64, term: U64 });

export const SegmentEndKind = z.enum([
  'eof',
  'zero-length',
  'short-length-word',
  'oversized',
  'decode-error',
  'crc-mismatch',
  'crc-link-mismatch',
]);

export const Segment = z.object({
  name: z.string(),
  seq: U64.nullable(),
  startIndex: U64.nullable().describe('the raft index in the name: the first entry expected in it'),
  size: z.number().int(),
  records: z.object({
    metadata: z.number().int(),
    entry: z.number().int(),
    state: z.number().int(),
    crc: z.number().int(),
    snapshot: z.number().int(),
    unknown: z.number().int(),
    undecodable: z.number().int(),
  }),
  firstEntry: EntryRef.nullable(),
  lastEntry: EntryRef.nullable(),
  crcChain: z.enum(['ok', 'unchecked', 'broken', 'not-reached']).describe('whether the first crc record continued the chain from the previous segment'),
  goodBytes: z.number().int().describe('offset just after the last good record'),
  end: SegmentEndKind,
  ending: z
    .enum(['zero-filled', 'exact', 'garbage-after-end', 'torn-write', 'crc-mismatch', 'garbage', 'truncated-record', 'oversized-length', 'crc-chain-broken'])
    .describe('how the file ends, in words'),
  salvage: z.object({ records: z.number().int(), chained: z.number().int(), entries: z.number().int(), firstIndex: U64.nullable(), lastIndex: U64.nullable() }),
});
export type Segment = z.infer<typeof Segment>;

/** A typed value from the analysis, as JSON: `code` (or `kind`) names the variant, uint64s are strings. */
const Coded = z.object({ code: z.string() }).catchall(z.unknown());
const Kinded = z.object({ kind: z.string() }).catchall(z.unknown());

/** Why the WAL/db comparison was not made. */
export const ReconcileSkip = z.discriminatedUnion('code', [
  z.object({ code: z.literal('overwritten') }).describe('new leaders rewrote indexes the db had applied too many times (more than 64) to follow'),
  z.object({ code: z.literal('log-ends-below-applied'), readTo: U64, consistentIndex: U64 }).describe('the log reads only up to readTo, below the db consistent index'),
  z.object({ code: z.literal('bridged'), index: U64 }).describe('an empty entry inside a term (a bridge) at index'),
]);
export type ReconcileSkip = z.infer<typeof ReconcileSkip>;

export const BootPrediction = z.object({
  version: z.enum(['3.4', '3.5', '3.6', '3.7']),
  outcome: z.enum(['starts', 'self-repairs', 'fails', 'never-healthy']),
  failure: Coded.nullable().describe('why etcd dies at boot (predict.ts BootFailure)'),
  stall: Coded.nullable().describe('why etcd runs but does not serve (for good, or for `timeouts` publish attempts of 7 s)'),
  error: z.string().nullable().describe('the error etcd ends with (or repairs), in its words'),
  log: z.string().nullable().describe('the message of its fatal log entry (zap msg; "repaired WAL" for a self-repair)'),
  capnslog: z.string().nullable().describe('3.4 with its default logger: the fatal line, without timestamp'),
  orElse: z
    .object({ error: z.string(), log: z.string().nullable() })
    .nullable()
    .describe('when the failure is a panic in another goroutine (bbolt\'s freepages check), what the main goroutine may die of first: which one etcd prints is a race'),
  repair: z
    .object({
      segment: z.string(),
      truncateAt: z.number().int(),
      brokenCopy: z.string(),
      validRecordsDropped: z.number().int(),
      entriesDropped: z.number().int(),
      firstDroppedIndex: U64.nullable(),
      lastDroppedIndex: U64.nullable(),
    })
    .nullable(),
  snapshot: z.object({ term: U64, index: U64, name: z.string() }).nullable(),
  snapsRenamedBroken: z.array(z.string()),
  db: z.enum(['new', 'opens', 'fails']).describe('what its bbolt does with member/snap/db: creates an empty one, opens it, or dies'),
  lastIndex: U64.nullable(),
  commit: U64.nullable(),
  hazards: z.array(Coded).describe('what loses or hides data without stopping etcd'),
});

export const Report = z
  .object({
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('wal-doctor'), version: z.string() }),
    path: z.string(),
    kind: z.enum(['data-dir', 'member-dir', 'wal-dir', 'wal-file', 'snap-file', 'db-file']),
    layout: z.array(z.object({ path: z.string(), role: z.string(), size: z.number().int(), isDir: z.boolean() })),
    writtenBy: z.object({ version: z.string(), evidence: z.array(z.string()) }),
    cluster: z
      .object({
        members: z.array(Hex16).describe('voters and learners known from the db (meta/confState, members bucket) and the WAL conf changes'),
        sources: z.array(z.string()),
      })
      .describe('who this member shares its cluster with: a bridge is only safe alone'),
    wal: z
      .object({
        segments: z.array(Segment),
        memberId: Hex16.nullable(),
        clusterId: Hex16.nullable(),
        hardState: z.object({ term: U64, vote: U64, vote_hex: Hex16, commit: U64, segment: z.string(), offset: z.number().int() }).nullable(),
        entries: z.object({ count: z.number().int(), firstIndex: U64.nullable(), lastIndex: U64.nullable(), lastTerm: U64.nullable() }),
        snapshotRecords: z.array(z.object({ index: U64, term: U64, confState: z.boolean(), segment: z.string(), offset: z.number().int() })),
        goodUntil: z
          .object({ segment: z.string(), offset: z.number().int() })
          .nullable()
          .describe('where the valid log ends, if it ends in damage'),
      })
      .nullable(),
    snapFiles: z.array(
      z.object({
        name: z.string(),
        term: U64,
        index: U64,
        size: z.number().int(),
        status: z.enum(['ok', 'snap-empty', 'snap-decode-error', 'snap-crc-mismatch', 'snap-raft-decode-error', 'too-large']),
        error: z.string().nullable(),
        matchesWalRecord: z.boolean(),
        voters: z.array(Hex16),
      }),
    ),
    db: z
      .object({
        path: z.string(),
        size: z.number().int(),
        consistentIndex: U64.nullable(),
        term: U64.nullable(),
        revision: U64.nullable(),
        compactRevision: U64.nullable(),
        clusterVersion: z.string().nullable(),
        storageVersion: z.string().nullable(),
        voters: z.array(Hex16),
        snapshotSave: z.enum(['none', 'sha256-ok', 'sha256-mismatch']).describe('an `etcdctl snapshot save` file carries a 32-byte SHA-256 trailer'),
        status: z
          .object({ hash: z.number().int(), revision: U64, totalKey: z.number().int(), totalSize: z.number().int(), integrityOk: z.boolean() })
          .nullable()
          .describe('what `etcdutl snapshot status` prints for this file (given for db and snapshot files)'),
        problems: z.number().int(),
      })
      .nullable(),
    etcd: z.array(BootPrediction).describe('what each etcd release line would do at boot'),
    reconciliation: z
      .object({
        keys: z.number().int(),
        checked: z.number().int(),
        ambiguous: z.number().int(),
        truncated: z.boolean(),
        skippedBecause: ReconcileSkip.nullable().describe('why nothing was compared (the log cannot say what the db should hold)'),
        mismatches: z.number().int(),
        first: z.array(z.object({ key: z.string(), index: z.number().int(), db: z.enum(['absent', 'other-value']) })),
      })
      .nullable()
      .describe('the writes the WAL holds at indexes the db has applied, compared with what the db holds'),
    findings: z.array(Finding),
    verdict: z.object({
      etcdVersion: z.enum(['3.4', '3.5', '3.6', '3.7']).describe('the release line whose behaviour decided the verdict'),
      status: z.enum(['healthy', 'repairable', 'needs-rebuild', 'alarm', 'in-use']),
      exitCode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(6), z.literal(75)]),
      reason: Coded.describe('why (verdict.ts VerdictReason)'),
      next: Kinded.describe('what to do (verdict.ts NextStep)'),
    }),
  })
  .describe('wal-doctor inspect/verify report');
export type Report = z.infer<typeof Report>;

/** What `--json` prints: the report, with each finding and the verdict also in words. */
export const ReportJson = Report.extend({
  findings: z.array(FindingJson),
  reconciliation: Report.shape.reconciliation.unwrap().extend({ skipped: z.string().nullable().describe('skippedBecause in words') }).nullable(),
  verdict: Report.shape.verdict.extend({
    headline: z.string().describe('the verdict in one line'),
    nextStep: z.string().describe('what to run next'),
  }),
});

/** The `--json` report schema as JSON Schema (draft 2020-12). */
export function reportJsonSchema(): unknown {
  return z.toJSONSchema(ReportJson, { target: 'draft-2020-12' });
}
