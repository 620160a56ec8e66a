/**
 * The `wal-doctor diff --json` report. zod is loaded only when this module is (the command imports it
 * for --json); the rest of src/diff uses the inferred type only (`import type`).
 * uint64 values (indexes, terms, revisions) are decimal strings; member IDs also 16-digit hex.
 */
import { z } from 'zod';
import { DIFF_SCHEMA_VERSION } from './schema-version.js';

const U64 = z.string().regex(/^\d+$/);
const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);

const EntryRef = z.object({
  member: z.string().describe('the path given for the member, as typed'),
  term: U64,
  entryType: z.string(),
  summary: z.string().describe('one line: what the entry asks etcd to do'),
  segment: z.string(),
  offset: z.number().int(),
});

export const MemberFacts = z.object({
  path: z.string(),
  memberId: Hex16.nullable(),
  clusterId: Hex16.nullable(),
  wal: z.object({
    firstIndex: U64.nullable(),
    lastIndex: U64.nullable(),
    lastTerm: U64.nullable(),
    entries: z.number().int().describe('entries in the log as etcd replays it (overwritten ones not counted)'),
    overwritten: z.number().int().describe('entries a later record with a lower or equal index replaced (raft log truncation)'),
    endsInDamage: z.object({ segment: z.string(), offset: z.number().int() }).nullable().describe('the log is read up to here, as etcd reads it'),
    hardState: z.object({ term: U64, vote: Hex16, commit: U64 }).nullable(),
    snapshotRecords: z.array(z.object({ index: U64, term: U64 })),
  }),
  snapFiles: z.array(z.object({ name: z.string(), index: U64, term: U64, status: z.string() })),
  db: z
    .object({
      consistentIndex: U64.nullable(),
      term: U64.nullable(),
      revision: U64.nullable(),
      compactRevision: U64.nullable(),
      hashKV: z
        .object({
          hash: z.number().int().describe('as `etcdctl endpoint hashkv --rev=<revision>` prints it for this member'),
          revision: U64,
          compactRevision: U64,
          compacted: z.boolean().describe('revision <= compact revision: etcd answers from a hash it stored before compacting, which the db cannot reproduce'),
        })
        .nullable(),
    })
    .nullable(),
});

export const DiffReport = z.object({
  schemaVersion: z.literal(DIFF_SCHEMA_VERSION),
  tool: z.string(),
  members: z.array(MemberFacts),
  log: z.object({
    comparedIndexes: z.object({ first: U64, last: U64 }).nullable().describe('indexes present in every member and compared entry by entry'),
    firstDivergence: z
      .object({
        index: U64,
        kind: z
          .enum(['term', 'data', 'missing'])
          .describe('term: members hold entries of different terms (raft replaced an uncommitted tail on some); data: same term, different bytes (never happens in raft: corruption); missing: some members lack the entry others have'),
        committed: z.boolean().describe('the index is at or below the HardState commit of every member that holds an entry there'),
        entries: z.array(EntryRef),
        lacking: z.array(z.string()).describe('members with no entry at this index'),
      })
      .nullable(),
    conflicts: z.object({
      term: z.number().int(),
      data: z.number().int(),
      committed: z.number().int().describe('conflicting indexes at or below every holder\'s commit'),
      first: U64.nullable(),
      last: U64.nullable(),
    }),
    lacking: z.array(
      z.object({
        member: z.string(),
        from: U64,
        to: U64,
        where: z.enum(['before-first', 'gap', 'after-last']).describe('before-first: older than the member\'s first WAL entry (purged or covered by its snapshot: not a divergence)'),
      }),
    ),
    keys: z.array(z.string()).describe('keys touched by the conflicting entries and by the entries some members lack after their last (first 200)'),
    keysTruncated: z.boolean(),
  }),
  hardStateDiffers: z.boolean(),
  snapshotsDiffer: z.boolean(),
  kv: z.object({
    revision: U64.nullable().describe('the revision every member\'s KV hash is taken at'),
    equal: z.boolean().nullable(),
  }),
  status: z
    .enum(['consistent', 'behind', 'split', 'corrupt'])
    .describe('the worst of the problems: corrupt > split > behind; consistent when there are none'),
  exitCode: z.union([z.literal(0), z.literal(3), z.literal(4), z.literal(5)]).describe('0 consistent, 3 behind, 4 split, 5 corrupt'),
  problems: z.array(
    z.object({
      kind: z
        .enum(['behind', 'split', 'corrupt'])
        .describe('behind: a member\'s log is a prefix of the others\' (stopped; it catches up); split: a member holds an uncommitted tail of an older term that raft replaces when it rejoins; corrupt: committed entries, same-term entries or KV hashes differ, or a log has a gap'),
      members: z.array(z.string()).describe('the members it concerns (paths as typed)'),
      text: z.string(),
    }),
  ),
  headline: z.string(),
});

export type DiffReport = z.infer<typeof DiffReport>;
export type MemberFacts = z.infer<typeof MemberFacts>;

export function diffJsonSchema(): unknown {
  return z.toJSONSchema(DiffReport);
}
