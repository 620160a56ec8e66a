/**
 * The zod schema of one `wal-doctor export` line (loaded only by `schema --export` and the tests,
 * so exporting does not pay for zod at start-up).
 */
import { z } from 'zod';
import { entryPayloadJson } from '../format/payload/payload-schema.js';
import { RECORD_TYPES } from './record-types.js';

const U64 = z.string().regex(/^\d+$/);
const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);

const K8sObject = z
  .object({
    encoding: z.enum(['protobuf', 'json', 'encrypted', 'other']).describe('by the first bytes: k8s\\0 envelope, JSON, k8s:enc: prefix, anything else'),
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    name: z.string().optional(),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional().describe('as stored (kube-apiserver clears it; the real one is the key\'s mod_revision)'),
    creationTimestamp: z.string().optional().describe('RFC 3339, UTC, to the second'),
    contentType: z.string().optional(),
    contentEncoding: z.string().optional(),
    encryption: z.object({ provider: z.string(), version: z.string(), keyName: z.string() }).optional().describe('encrypted at rest: k8s:enc:<provider>:<version>:<keyName>:'),
    error: z.string().optional().describe('what could not be decoded (the other fields are what could)'),
  })
  .describe('a stored Kubernetes value, decoded without the Kubernetes schemas');

const K8sOp = z
  .object({
    op: z.enum(['put', 'delete_range']),
    key: z.string(),
    resource: z.string().describe('plural resource, e.g. pods; from the key path (minions -> nodes, services/specs -> services)'),
    group: z.string().optional().describe('API group when the key path names it (custom resources, apiextensions.k8s.io, ...)'),
    namespace: z.string().optional().describe('puts: the object\'s when decoded, else the key\'s; absent for cluster-scoped keys'),
    name: z.string().optional().describe('puts: the object\'s when decoded, else the key\'s'),
    range: z.literal(true).optional().describe('a delete_range with a range end (more than one key)'),
    txnBranch: z.enum(['success', 'failure']).optional().describe('inside a txn: its branch (the WAL does not say which ran)'),
    object: K8sObject.optional(),
  })
  .describe('one write to a key under /registry/');

export const ExportLine = z
  .object({
    segment: z.string().describe('segment file name'),
    offset: z.number().int().describe('byte offset of the record frame (its length word)'),
    recordNo: z.number().int().nullable().describe('0-based record number in the segment; null for records found past damage'),
    recordType: z.enum(RECORD_TYPES),
    crc: z.string().regex(/^0x[0-9a-f]{8}$/).describe('the record crc field, 0x-prefixed hex'),
    damaged: z.boolean().optional().describe('true for records after the first damage (only with --include-damaged)'),
    chained: z.boolean().optional().describe('for damaged records: whether the CRC chain from the record before still validates'),
    index: U64.optional(),
    term: U64.optional(),
    entryType: z.string().regex(/^(?:Entry[A-Za-z0-9]+|type--?\d+)$/).optional().describe('EntryNormal, EntryConfChange, EntryConfChangeV2, or type-N for a type raft does not know'),
    dataBytes: z.number().int().optional(),
    payload: entryPayloadJson.optional(),
    summary: z.string().optional(),
    hardState: z.object({ term: U64, vote: U64, voteHex: Hex16, commit: U64 }).optional(),
    snapshot: z.object({ index: U64, term: U64, confState: z.object({ voters: z.array(Hex16), learners: z.array(Hex16) }).optional() }).optional(),
    metadata: z.object({ memberId: Hex16, clusterId: Hex16 }).optional(),
    recordTypeValue: z.number().int().optional().describe('for unknown/undecodable records: the raw type'),
    error: z.string().optional(),
    k8s: z.array(K8sOp).optional().describe('with --k8s: the writes of this entry to keys under /registry/, decoded as Kubernetes objects'),
  })
  .describe('one line of wal-doctor export');
export type ExportLine = z.infer<typeof ExportLine>;

export function exportJsonSchema(): unknown {
  return z.toJSONSchema(ExportLine, { target: 'draft-2020-12', io: 'output' });
}

