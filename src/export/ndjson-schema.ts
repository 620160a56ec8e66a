/**
 * The zod schema of one `wal-doctor export` line (loaded only by `schema --export` and the tests,
 * so exporting does not pay for zod at start-up).
 */
import { z } from 'zod';
import { entryPayloadJson } from './payload-schema.js';
import { RECORD_TYPES } from './ndjson.js';

const U64 = z.string().regex(/^\d+$/);
const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);

export const ExportLine = z
  .object({
    segment: z.string().describe('segment file name'),
    offset: z.number().int().describe('byte offset of the record frame (its length word)'),
    recordNo: z.number().int().nullable().describe('0-based record number in the segment; null for records found past damage'),
    recordType: z.enum(RECORD_TYPES),
    crc: z.string().describe('the record crc field, 0x-prefixed hex'),
    damaged: z.boolean().optional().describe('true for records after the first damage (only with --include-damaged)'),
    chained: z.boolean().optional().describe('for damaged records: whether the CRC chain from the record before still validates'),
    index: U64.optional(),
    term: U64.optional(),
    entryType: z.string().optional(),
    dataBytes: z.number().int().optional(),
    payload: entryPayloadJson.optional(),
    summary: z.string().optional(),
    hardState: z.object({ term: U64, vote: U64, voteHex: Hex16, commit: U64 }).optional(),
    snapshot: z.object({ index: U64, term: U64, confState: z.object({ voters: z.array(Hex16), learners: z.array(Hex16) }).optional() }).optional(),
    metadata: z.object({ memberId: Hex16, clusterId: Hex16 }).optional(),
    recordTypeValue: z.number().int().optional().describe('for unknown/undecodable records: the raw type'),
    error: z.string().optional(),
  })
  .describe('one line of wal-doctor export');
export type ExportLine = z.infer<typeof ExportLine>;

export function exportJsonSchema(): unknown {
  return z.toJSONSchema(ExportLine, { target: 'draft-2020-12', io: 'output' });
}

