/**
 * JSON shape of one decoded raft entry payload (what `describeEntry` returns), as zod schemas.
 * The TypeScript types are inferred from them, so the schema and the code cannot drift.
 *
 * Conventions: uint64/int64 values (revisions, IDs, TTLs, nanosecond times) are decimal strings;
 * member, lease and request IDs also come as 16-digit hex in a sibling `…Hex` field. Keys and
 * values say how they are rendered (`encoding`). Secrets are replaced by `<masked: N bytes>`.
 * Fields that are zero/empty/false on the wire are left out unless noted.
 */
import { z } from 'zod';

/** Bump when a field is renamed or removed, or its meaning changes. */
export const PAYLOAD_SCHEMA_VERSION = 1;

export const decString = z.string().regex(/^-?\d+$/);
export const hexId = z.string().regex(/^[0-9a-f]{16}$/);
/** Standard base64 (Buffer's 'base64'), padded. */
export const base64String = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
/** A protobuf enum value: its name, or its number when the name is not known. */
export const enumString = z.string().regex(/^(?:[A-Z][A-Z_]*|-?\d+)$/);
/** What a masked secret looks like: `<masked: 2 bytes>`. */
export const maskedSecret = z.string().regex(/^<masked: \d+ bytes>$/);

const truncation = {
  /** Length of the whole value in bytes. */
  bytes: z.number().int().nonnegative(),
  /** Present when only the first `maxValueBytes` bytes are rendered. */
  truncated: z.literal(true).optional(),
  /** Present when the value is withheld (an unencrypted Kubernetes Secret: `export --show-secrets` prints it); `text` is then `<masked: N bytes>`. */
  masked: z.literal(true).optional(),
};

/** A key or value: UTF-8 text when the bytes are valid UTF-8, otherwise base64. */
export const bytesJson = z.discriminatedUnion('encoding', [
  z.object({ encoding: z.literal('utf8'), text: z.string(), ...truncation }),
  z.object({ encoding: z.literal('base64'), base64: base64String, ...truncation }),
]);
export type BytesJson = z.infer<typeof bytesJson>;

const optDec = decString.optional();

export const rangeOp = z.object({
  op: z.literal('range'),
  key: bytesJson,
  rangeEnd: bytesJson.optional(),
  limit: optDec,
  revision: optDec,
  sortOrder: enumString.optional(),
  sortTarget: enumString.optional(),
  serializable: z.literal(true).optional(),
  keysOnly: z.literal(true).optional(),
  countOnly: z.literal(true).optional(),
  minModRevision: optDec,
  maxModRevision: optDec,
  minCreateRevision: optDec,
  maxCreateRevision: optDec,
});

export const putOp = z.object({
  op: z.literal('put'),
  key: bytesJson,
  value: bytesJson,
  lease: optDec,
  leaseHex: hexId.optional(),
  prevKv: z.literal(true).optional(),
  ignoreValue: z.literal(true).optional(),
  ignoreLease: z.literal(true).optional(),
});

/** rangeEnd absent: one key; rangeEnd `\0` (text "\u0000"): every key >= key. */
export const deleteRangeOp = z.object({
  op: z.literal('delete_range'),
  key: bytesJson,
  rangeEnd: bytesJson.optional(),
  prevKv: z.literal(true).optional(),
});

/** Exactly one of version/createRevision/modRevision/value/lease is present (the target). */
export const compareJson = z.object({
  result: enumString,
  target: enumString,
  key: bytesJson,
  rangeEnd: bytesJson.optional(),
  version: optDec,
  createRevision: optDec,
  modRevision: optDec,
  value: bytesJson.optional(),
  lease: optDec,
  leaseHex: hexId.optional(),
});
export type CompareJson = z.infer<typeof compareJson>;

/** A RequestOp with nothing set. etcdctl cannot send one, but the wire allows it. */
export const emptyOp = z.object({ op: z.literal('none') });

export interface TxnOpJson {
  op: 'txn';
  compare: CompareJson[];
  success: KvOpJson[];
  failure: KvOpJson[];
}
export type KvOpJson =
  | z.infer<typeof rangeOp>
  | z.infer<typeof putOp>
  | z.infer<typeof deleteRangeOp>
  | TxnOpJson
  | z.infer<typeof emptyOp>;

export const txnOp: z.ZodType<TxnOpJson> = z.object({
  op: z.literal('txn'),
  compare: z.array(compareJson),
  get success() {
    return z.array(kvOp);
  },
  get failure() {
    return z.array(kvOp);
  },
});

/** An operation inside a txn (RequestOp); an empty RequestOp reads as `{op: 'none'}`. */
export const kvOp: z.ZodType<KvOpJson> = z.union([rangeOp, putOp, deleteRangeOp, txnOp, emptyOp]);

/** etcdserverpb.Request (v2 store). Only non-default fields besides id/method/path. */
export const v2Request = z.object({
  id: decString,
  idHex: hexId,
  method: z.string(),
  path: z.string(),
  val: bytesJson.optional(),
  dir: z.literal(true).optional(),
  prevValue: z.string().optional(),
  prevIndex: optDec,
  prevExist: z.boolean().optional(),
  /** Unix nanoseconds. */
  expiration: optDec,
  wait: z.literal(true).optional(),
  since: optDec,
  recursive: z.literal(true).optional(),
  sorted: z.literal(true).optional(),
  quorum: z.literal(true).optional(),
  /** Unix nanoseconds. */
  time: optDec,
  stream: z.literal(true).optional(),
  refresh: z.boolean().optional(),
});
export type V2RequestJson = z.infer<typeof v2Request>;

const name = z.string();
const noFields = <T extends string>(op: T) => z.object({ op: z.literal(op) });

/** The request an InternalRaftRequest carries, keyed by the IRR field name. */
export const v3Request = z.union([
  rangeOp,
  putOp,
  deleteRangeOp,
  txnOp,
  emptyOp,
  z.object({ op: z.literal('compaction'), revision: decString, physical: z.literal(true).optional() }),
  z.object({ op: z.literal('lease_grant'), ttl: decString, id: decString, idHex: hexId }),
  z.object({ op: z.literal('lease_revoke'), id: decString, idHex: hexId }),
  z.object({
    op: z.literal('lease_checkpoint'),
    checkpoints: z.array(z.object({ id: decString, idHex: hexId, remainingTtl: decString })),
  }),
  z.object({
    op: z.literal('alarm'),
    action: z.string(),
    memberId: decString,
    memberIdHex: hexId,
    alarm: z.string(),
  }),
  noFields('auth_enable'),
  noFields('auth_disable'),
  noFields('auth_status'),
  noFields('auth_user_list'),
  noFields('auth_role_list'),
  z.object({
    op: z.literal('authenticate'),
    name,
    password: maskedSecret.optional(),
    simpleToken: maskedSecret.optional(),
  }),
  z.object({
    op: z.literal('auth_user_add'),
    name,
    /** 3.4 writes the plain password; always masked here. */
    password: maskedSecret.optional(),
    hashedPassword: maskedSecret.optional(),
    noPassword: z.literal(true).optional(),
  }),
  z.object({ op: z.literal('auth_user_delete'), name }),
  z.object({ op: z.literal('auth_user_get'), name }),
  z.object({
    op: z.literal('auth_user_change_password'),
    name,
    password: maskedSecret.optional(),
    hashedPassword: maskedSecret.optional(),
  }),
  z.object({ op: z.literal('auth_user_grant_role'), user: name, role: name }),
  z.object({ op: z.literal('auth_user_revoke_role'), name, role: name }),
  z.object({ op: z.literal('auth_role_add'), name }),
  z.object({ op: z.literal('auth_role_delete'), role: name }),
  z.object({ op: z.literal('auth_role_get'), role: name }),
  z.object({
    op: z.literal('auth_role_grant_permission'),
    name,
    permType: z.string(),
    key: bytesJson,
    rangeEnd: bytesJson.optional(),
  }),
  z.object({ op: z.literal('auth_role_revoke_permission'), role: name, key: bytesJson, rangeEnd: bytesJson.optional() }),
  z.object({ op: z.literal('cluster_version_set'), ver: z.string() }),
  z.object({
    op: z.literal('cluster_member_attr_set'),
    memberId: decString,
    memberIdHex: hexId,
    name: z.string(),
    clientUrls: z.array(z.string()),
  }),
  z.object({ op: z.literal('downgrade_info_set'), enabled: z.boolean(), ver: z.string() }),
  z.object({ op: z.literal('downgrade_version_test'), ver: z.string() }),
  z.object({ op: z.literal('v2'), request: v2Request }),
]);
export type V3RequestJson = z.infer<typeof v3Request>;

/** A member JSON context or another JSON value; integers beyond 2^53 become decimal strings. */
export const jsonValue: z.ZodType<unknown> = z.unknown();

export const contextJson = z.union([
  z.object({ encoding: z.literal('json'), json: jsonValue, bytes: z.number().int().nonnegative() }),
  bytesJson,
]);

export const entryPayloadJson = z.discriminatedUnion('kind', [
  /** EntryNormal without data: the no-op a new leader appends. */
  z.object({ kind: z.literal('noop') }),
  /** An InternalRaftRequest. requestId is IRR.ID when non-zero, else header.ID; absent if both are 0. */
  z.object({
    kind: z.literal('v3'),
    requestId: decString.optional(),
    requestIdHex: hexId.optional(),
    username: z.string().optional(),
    authRevision: optDec,
    request: v3Request,
  }),
  /** A bare etcdserverpb.Request (member attributes, cluster version, v2 API traffic). */
  z.object({ kind: z.literal('v2'), request: v2Request }),
  z.object({
    kind: z.literal('conf_change'),
    changeId: decString,
    changeIdHex: hexId,
    type: z.string(),
    nodeId: decString,
    nodeIdHex: hexId,
    context: contextJson.optional(),
  }),
  z.object({
    kind: z.literal('conf_change_v2'),
    transition: z.string(),
    changes: z.array(z.object({ type: z.string(), nodeId: decString, nodeIdHex: hexId })),
    context: contextJson.optional(),
  }),
  /** Data that is neither a valid InternalRaftRequest nor a v2 Request (or an unknown entry type). */
  z.object({ kind: z.literal('undecodable'), error: z.string(), dataBase64: z.string() }),
]);
export type EntryPayloadJson = z.infer<typeof entryPayloadJson>;
