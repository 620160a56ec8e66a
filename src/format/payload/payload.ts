/**
 * Raft entry payload → JSON (`describeEntry`) and → one line (`summarizeEntry`).
 *
 * How etcd's entries are told apart (spec etcd-messages.md §8.3):
 *   - EntryNormal without data is the no-op a new leader appends.
 *   - EntryNormal data is decoded as etcd's applyEntryNormal does (etcdAppliesEntryData): an
 *     InternalRaftRequest if etcd's Unmarshal accepts it, else a bare v2 etcdserverpb.Request.
 *     gogoproto refuses a known field whose wire type does not match, recursively; a bare Request
 *     always has field 5 (Dir) as a varint where IRR field 5 is a message, so the two never mix
 *     up. Neither → 'undecodable' (etcd panics applying such an entry).
 *   - EntryConfChange / EntryConfChangeV2 data is a raftpb.ConfChange / ConfChangeV2; etcd puts
 *     the member as JSON in the context.
 *
 * Secrets: 3.4 writes plaintext passwords into the WAL (AuthUserAdd, AuthUserChangePassword), 3.5
 * bcrypt hashes, and Authenticate entries carry the issued simple token. All are masked.
 */
import { isUtf8 } from 'node:buffer';
import { type JsonValue, parseJsonBigInt } from '../bbolt/json-bigint.js';
import { hex16 } from '../wal/names.js';
import { decodeConfChange, decodeConfChangeV2, ProtoDecodeError } from '../proto/messages.js';
import type { Entry } from '../proto/messages.js';
import { type ProtoObject, type ProtoValue, type UnmarshalFailure, etcdAppliesEntryData, unmarshalFailureText } from '../proto/unmarshal.js';
import type {
  BytesJson,
  CompareJson,
  EntryPayloadJson,
  KvOpJson,
  V2RequestJson,
  V3RequestJson,
} from './payload-schema.js';

export type { BytesJson, EntryPayloadJson } from './payload-schema.js';

export interface DescribeOptions {
  /** Render at most this many bytes of each value (put values, compare values, v2 values);
   *  the JSON then says `truncated: true` and still gives the full length in `bytes`. */
  maxValueBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// small helpers

const utf8 = new TextDecoder('utf-8', { fatal: true });


function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Keys, values, range ends: text when valid UTF-8, base64 otherwise; `max` truncates. */
export function bytesJson(b: Uint8Array, max?: number): BytesJson {
  // Checked first, not by catching the decoder's TypeError: most values (Kubernetes protobuf
  // objects) are not UTF-8, and a throw per value cost a third of an export.
  const text = isUtf8(b) ? utf8.decode(b) : undefined;
  let shown = b;
  const truncated = max !== undefined && b.length > max;
  if (truncated) {
    let cut = max;
    // Cut text at a character boundary: back off over UTF-8 continuation bytes (10xxxxxx).
    if (text !== undefined) while (cut > 0 && ((b[cut] ?? 0) & 0xc0) === 0x80) cut--;
    shown = b.subarray(0, cut);
  }
  const out: BytesJson =
    text !== undefined
      ? { encoding: 'utf8', text: truncated ? utf8.decode(shown) : text, bytes: b.length }
      : { encoding: 'base64', base64: b64(shown), bytes: b.length };
  if (truncated) out.truncated = true;
  return out;
}

function mask(s: string): string {
  return `<masked: ${Buffer.byteLength(s, 'utf8')} bytes>`;
}

// Accessors over the plain decoded messages (fields absent when zero on the wire). Each call site
// reads its field by name (`get.big(o.limit)`), not through one helper taking the name: a property
// read shared by every field and message type is megamorphic, and was a tenth of an export.
const get = {
  big(v: ProtoValue | undefined): bigint {
    return typeof v === 'bigint' ? v : 0n;
  },
  num(v: ProtoValue | undefined): number {
    return typeof v === 'number' ? v : 0;
  },
  str(v: ProtoValue | undefined): string {
    return typeof v === 'string' ? v : '';
  },
  bool(v: ProtoValue | undefined): boolean {
    return v === true;
  },
  bytes(v: ProtoValue | undefined): Uint8Array {
    return v instanceof Uint8Array ? v : EMPTY;
  },
  msg(v: ProtoValue | undefined): ProtoObject {
    return isObject(v) ? v : {};
  },
  list(v: ProtoValue | undefined): ProtoObject[] {
    return Array.isArray(v) ? v.filter(isObject) : [];
  },
  strs(v: ProtoValue | undefined): string[] {
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  },
};
const EMPTY = new Uint8Array(0);

function isObject(v: ProtoValue | undefined): v is ProtoObject {
  return typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v);
}

/** Sets out[k] only when the value is meaningful (not undefined), keeping JSON free of nulls. */
function put<T extends object>(out: T, k: string, v: unknown): void {
  if (v !== undefined) (out as Record<string, unknown>)[k] = v;
}
const nz = (v: bigint): string | undefined => (v === 0n ? undefined : v.toString());
const yes = (v: boolean): true | undefined => (v ? true : undefined);
const nonEmpty = (b: Uint8Array): BytesJson | undefined => (b.length > 0 ? bytesJson(b) : undefined);

function enumName(names: readonly string[], v: number): string {
  return names[v] ?? String(v);
}

const SORT_ORDER = ['NONE', 'ASCEND', 'DESCEND'];
const SORT_TARGET = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];
const COMPARE_RESULT = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'];
const COMPARE_TARGET = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'];
const ALARM_ACTION = ['GET', 'ACTIVATE', 'DEACTIVATE'];
const ALARM_TYPE = ['NONE', 'NOSPACE', 'CORRUPT'];
const PERM_TYPE = ['READ', 'WRITE', 'READWRITE'];
const CONF_CHANGE_TYPE = ['ConfChangeAddNode', 'ConfChangeRemoveNode', 'ConfChangeUpdateNode', 'ConfChangeAddLearnerNode'];
const CONF_CHANGE_TRANSITION = ['Auto', 'JointImplicit', 'JointExplicit'];

// ---------------------------------------------------------------------------------------------
// KV requests

function rangeJson(o: ProtoObject): KvOpJson {
  const out: KvOpJson = { op: 'range', key: bytesJson(get.bytes(o.key)) };
  put(out, 'rangeEnd', nonEmpty(get.bytes(o.rangeEnd)));
  put(out, 'limit', nz(get.big(o.limit)));
  put(out, 'revision', nz(get.big(o.revision)));
  if (o.sortOrder !== undefined) put(out, 'sortOrder', enumName(SORT_ORDER, get.num(o.sortOrder)));
  if (o.sortTarget !== undefined) put(out, 'sortTarget', enumName(SORT_TARGET, get.num(o.sortTarget)));
  put(out, 'serializable', yes(get.bool(o.serializable)));
  put(out, 'keysOnly', yes(get.bool(o.keysOnly)));
  put(out, 'countOnly', yes(get.bool(o.countOnly)));
  put(out, 'minModRevision', nz(get.big(o.minModRevision)));
  put(out, 'maxModRevision', nz(get.big(o.maxModRevision)));
  put(out, 'minCreateRevision', nz(get.big(o.minCreateRevision)));
  put(out, 'maxCreateRevision', nz(get.big(o.maxCreateRevision)));
  return out;
}

function putJson(o: ProtoObject, opts: DescribeOptions): KvOpJson {
  const out: KvOpJson = {
    op: 'put',
    key: bytesJson(get.bytes(o.key)),
    value: bytesJson(get.bytes(o.value), opts.maxValueBytes),
  };
  const lease = get.big(o.lease);
  if (lease !== 0n) {
    out.lease = lease.toString();
    out.leaseHex = hex16(lease);
  }
  put(out, 'prevKv', yes(get.bool(o.prevKv)));
  put(out, 'ignoreValue', yes(get.bool(o.ignoreValue)));
  put(out, 'ignoreLease', yes(get.bool(o.ignoreLease)));
  return out;
}

function deleteRangeJson(o: ProtoObject): KvOpJson {
  const out: KvOpJson = { op: 'delete_range', key: bytesJson(get.bytes(o.key)) };
  put(out, 'rangeEnd', nonEmpty(get.bytes(o.rangeEnd)));
  put(out, 'prevKv', yes(get.bool(o.prevKv)));
  return out;
}

function compareJson(o: ProtoObject, opts: DescribeOptions): CompareJson {
  const out: CompareJson = {
    result: enumName(COMPARE_RESULT, get.num(o.result)),
    target: enumName(COMPARE_TARGET, get.num(o.target)),
    key: bytesJson(get.bytes(o.key)),
  };
  put(out, 'rangeEnd', nonEmpty(get.bytes(o.rangeEnd)));
  // oneof target_union: whichever member is on the wire, zero included.
  if (o.version !== undefined) out.version = get.big(o.version).toString();
  if (o.createRevision !== undefined) out.createRevision = get.big(o.createRevision).toString();
  if (o.modRevision !== undefined) out.modRevision = get.big(o.modRevision).toString();
  if (o.value !== undefined) out.value = bytesJson(get.bytes(o.value), opts.maxValueBytes);
  if (o.lease !== undefined) {
    const lease = get.big(o.lease);
    out.lease = lease.toString();
    out.leaseHex = hex16(lease);
  }
  return out;
}

function requestOpJson(o: ProtoObject, opts: DescribeOptions): KvOpJson {
  if (o.requestRange !== undefined) return rangeJson(get.msg(o.requestRange));
  if (o.requestPut !== undefined) return putJson(get.msg(o.requestPut), opts);
  if (o.requestDeleteRange !== undefined) return deleteRangeJson(get.msg(o.requestDeleteRange));
  if (o.requestTxn !== undefined) return txnJson(get.msg(o.requestTxn), opts);
  return { op: 'none' };
}

function txnJson(o: ProtoObject, opts: DescribeOptions): KvOpJson {
  // An empty RequestOp (nothing set) cannot be sent by etcdctl; it stays visible as 'none'.
  return {
    op: 'txn',
    compare: get.list(o.compare).map((c) => compareJson(c, opts)),
    success: get.list(o.success).map((x) => requestOpJson(x, opts)),
    failure: get.list(o.failure).map((x) => requestOpJson(x, opts)),
  };
}

// ---------------------------------------------------------------------------------------------
// v2 Request

function v2Json(o: ProtoObject, opts: DescribeOptions): V2RequestJson {
  const id = get.big(o.id);
  const out: V2RequestJson = { id: id.toString(), idHex: hex16(id), method: get.str(o.method), path: get.str(o.path) };
  const val = get.str(o.val);
  if (val !== '') out.val = bytesJson(Buffer.from(val, 'utf8'), opts.maxValueBytes);
  put(out, 'dir', yes(get.bool(o.dir)));
  if (get.str(o.prevValue) !== '') out.prevValue = get.str(o.prevValue);
  put(out, 'prevIndex', nz(get.big(o.prevIndex)));
  if (o.prevExist !== undefined) out.prevExist = get.bool(o.prevExist);
  put(out, 'expiration', nz(get.big(o.expiration)));
  put(out, 'wait', yes(get.bool(o.wait)));
  put(out, 'since', nz(get.big(o.since)));
  put(out, 'recursive', yes(get.bool(o.recursive)));
  put(out, 'sorted', yes(get.bool(o.sorted)));
  put(out, 'quorum', yes(get.bool(o.quorum)));
  put(out, 'time', nz(get.big(o.time)));
  put(out, 'stream', yes(get.bool(o.stream)));
  if (o.refresh !== undefined) out.refresh = get.bool(o.refresh);
  return out;
}

// ---------------------------------------------------------------------------------------------
// InternalRaftRequest

type V3Builder = (o: ProtoObject, opts: DescribeOptions) => V3RequestJson;

function secrets<T extends object>(out: T, o: ProtoObject, fields: [string, string][]): T {
  for (const [from, to] of fields) {
    const s = get.str(o[from]);
    if (s !== '') put(out, to, mask(s));
  }
  return out;
}

/** IRR field (camelCase, as protobufjs names it) → JSON builder. Order = IRR field numbers. */
const V3: [string, V3Builder][] = [
  ['range', (o) => rangeJson(o)],
  ['put', putJson],
  ['deleteRange', (o) => deleteRangeJson(o)],
  ['txn', txnJson],
  ['compaction', (o) => {
    const out: V3RequestJson = { op: 'compaction', revision: get.big(o.revision).toString() };
    put(out, 'physical', yes(get.bool(o.physical)));
    return out;
  }],
  ['leaseGrant', (o) => {
    const id = get.big(o.id);
    return { op: 'lease_grant', ttl: get.big(o.ttl).toString(), id: id.toString(), idHex: hex16(id) };
  }],
  ['leaseRevoke', (o) => {
    const id = get.big(o.id);
    return { op: 'lease_revoke', id: id.toString(), idHex: hex16(id) };
  }],
  ['alarm', (o) => {
    const m = get.big(o.memberId);
    return {
      op: 'alarm',
      action: enumName(ALARM_ACTION, get.num(o.action)),
      memberId: m.toString(),
      memberIdHex: hex16(m),
      alarm: enumName(ALARM_TYPE, get.num(o.alarm)),
    };
  }],
  ['leaseCheckpoint', (o) => ({
    op: 'lease_checkpoint',
    checkpoints: get.list(o.checkpoints).map((c) => {
      const id = get.big(c.id);
      return { id: id.toString(), idHex: hex16(id), remainingTtl: get.big(c.remainingTtl).toString() };
    }),
  })],
  ['v2', (o, opts) => ({ op: 'v2', request: v2Json(o, opts) })],
  ['authEnable', () => ({ op: 'auth_enable' })],
  ['authDisable', () => ({ op: 'auth_disable' })],
  ['authenticate', (o) =>
    secrets({ op: 'authenticate', name: get.str(o.name) }, o, [
      ['password', 'password'],
      ['simpleToken', 'simpleToken'],
    ])],
  ['authStatus', () => ({ op: 'auth_status' })],
  ['authUserAdd', (o) => {
    const out: V3RequestJson = secrets({ op: 'auth_user_add', name: get.str(o.name) }, o, [
      ['password', 'password'],
      ['hashedPassword', 'hashedPassword'],
    ]);
    put(out, 'noPassword', yes(get.bool(get.msg(o.options).noPassword)));
    return out;
  }],
  ['authUserDelete', (o) => ({ op: 'auth_user_delete', name: get.str(o.name) })],
  ['authUserGet', (o) => ({ op: 'auth_user_get', name: get.str(o.name) })],
  ['authUserChangePassword', (o) =>
    secrets({ op: 'auth_user_change_password', name: get.str(o.name) }, o, [
      ['password', 'password'],
      ['hashedPassword', 'hashedPassword'],
    ])],
  ['authUserGrantRole', (o) => ({ op: 'auth_user_grant_role', user: get.str(o.user), role: get.str(o.role) })],
  ['authUserRevokeRole', (o) => ({ op: 'auth_user_revoke_role', name: get.str(o.name), role: get.str(o.role) })],
  ['authUserList', () => ({ op: 'auth_user_list' })],
  ['authRoleList', () => ({ op: 'auth_role_list' })],
  ['authRoleAdd', (o) => ({ op: 'auth_role_add', name: get.str(o.name) })],
  ['authRoleDelete', (o) => ({ op: 'auth_role_delete', role: get.str(o.role) })],
  ['authRoleGet', (o) => ({ op: 'auth_role_get', role: get.str(o.role) })],
  ['authRoleGrantPermission', (o) => {
    const perm = get.msg(o.perm);
    const out: V3RequestJson = {
      op: 'auth_role_grant_permission',
      name: get.str(o.name),
      permType: enumName(PERM_TYPE, get.num(perm.permType)),
      key: bytesJson(get.bytes(perm.key)),
    };
    put(out, 'rangeEnd', nonEmpty(get.bytes(perm.rangeEnd)));
    return out;
  }],
  ['authRoleRevokePermission', (o) => {
    const out: V3RequestJson = {
      op: 'auth_role_revoke_permission',
      role: get.str(o.role),
      key: bytesJson(get.bytes(o.key)),
    };
    put(out, 'rangeEnd', nonEmpty(get.bytes(o.rangeEnd)));
    return out;
  }],
  ['clusterVersionSet', (o) => ({ op: 'cluster_version_set', ver: get.str(o.ver) })],
  ['clusterMemberAttrSet', (o) => {
    const m = get.big(o.memberId);
    const attrs = get.msg(o.memberAttributes);
    return {
      op: 'cluster_member_attr_set',
      memberId: m.toString(),
      memberIdHex: hex16(m),
      name: get.str(attrs.name),
      clientUrls: get.strs(attrs.clientUrls),
    };
  }],
  ['downgradeInfoSet', (o) => ({ op: 'downgrade_info_set', enabled: get.bool(o.enabled), ver: get.str(o.ver) })],
  ['downgradeVersionTest', (o) => ({ op: 'downgrade_version_test', ver: get.str(o.ver) })],
];

function irrJson(irr: ProtoObject, opts: DescribeOptions): EntryPayloadJson {
  const header = get.msg(irr.header);
  const id = get.big(irr.id) !== 0n ? get.big(irr.id) : get.big(header.id);
  let request: V3RequestJson = { op: 'none' };
  for (const [field, build] of V3) {
    const m = irr[field];
    if (m !== undefined) {
      request = build(get.msg(m), opts);
      break;
    }
  }
  // Key order of the JSON: kind, request ID, user, auth revision, then the request (set in that
  // order on one object: no spread of a second one).
  const out: Omit<V3PayloadJson, 'request'> & { request?: V3RequestJson } = { kind: 'v3' };
  if (id !== 0n) {
    out.requestId = id.toString();
    out.requestIdHex = hex16(id);
  }
  const username = get.str(header.username);
  if (username !== '') out.username = username;
  const authRevision = get.big(header.authRevision);
  if (authRevision !== 0n) out.authRevision = authRevision.toString();
  out.request = request;
  return out as V3PayloadJson;
}

type V3PayloadJson = Extract<EntryPayloadJson, { kind: 'v3' }>;

// ---------------------------------------------------------------------------------------------
// conf changes

/** JSON with integers beyond 2^53 kept exact as decimal strings (member IDs are uint64); parsed by the one bigint-exact parser. */
export function parseJsonBigSafe(text: string): unknown {
  const r = parseJsonBigInt(text);
  if (!r.ok) throw new SyntaxError(`${r.reason} at offset ${r.offset}`);
  const plain = (v: JsonValue): unknown => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return plain(r.value);
}

function contextJson(b: Uint8Array | undefined) {
  if (b === undefined || b.length === 0) return undefined;
  try {
    const json = parseJsonBigSafe(utf8.decode(b));
    return { encoding: 'json' as const, json, bytes: b.length };
  } catch {
    return bytesJson(b);
  }
}

function confChangeJson(data: Uint8Array): EntryPayloadJson {
  const cc = decodeConfChange(data);
  const out: EntryPayloadJson = {
    kind: 'conf_change',
    changeId: cc.id.toString(),
    changeIdHex: hex16(cc.id),
    type: enumName(CONF_CHANGE_TYPE, cc.type),
    nodeId: cc.nodeId.toString(),
    nodeIdHex: hex16(cc.nodeId),
  };
  put(out, 'context', contextJson(cc.context));
  return out;
}

function confChangeV2Json(data: Uint8Array): EntryPayloadJson {
  const cc = decodeConfChangeV2(data);
  const out: EntryPayloadJson = {
    kind: 'conf_change_v2',
    transition: enumName(CONF_CHANGE_TRANSITION, cc.transition),
    changes: cc.changes.map((c) => ({
      type: enumName(CONF_CHANGE_TYPE, c.type),
      nodeId: c.nodeId.toString(),
      nodeIdHex: hex16(c.nodeId),
    })),
  };
  put(out, 'context', contextJson(cc.context));
  return out;
}

// ---------------------------------------------------------------------------------------------
// public API

function errorText(e: unknown): string {
  if (e instanceof ProtoDecodeError) return `${e.messageType}: ${e.message}`;
  throw e; // anything else is a bug, not bad data
}

/** `raftpb.ConfState: unexpected EOF`: the message that failed and etcd's error text. */
function failureText(f: UnmarshalFailure): string {
  return `${f.type}: ${unmarshalFailureText(f)}`;
}

/**
 * Decodes what an entry carries into JSON (see payload-schema.ts). Never throws on bad bytes:
 * data that decodes as nothing etcd writes becomes `{kind: 'undecodable', error, dataBase64}`.
 */
export function describeEntry(entry: Entry, opts: DescribeOptions = {}): EntryPayloadJson {
  const data = entry.data ?? new Uint8Array(0);
  const undecodable = (error: string): EntryPayloadJson => ({ kind: 'undecodable', error, dataBase64: b64(data) });
  switch (entry.type) {
    case 0: {
      const o = etcdAppliesEntryData(data);
      switch (o.as) {
        case 'noop':
          return { kind: 'noop' };
        case 'internal-raft-request':
          return irrJson(o.request, opts);
        case 'v2-request':
          return { kind: 'v2', request: v2Json(o.request, opts) };
        case 'panic':
          return undecodable(`not an InternalRaftRequest (${failureText(o.irrFailure)}) nor a v2 Request (${failureText(o.requestFailure)})`);
      }
    }
    case 1:
      try {
        return confChangeJson(data);
      } catch (e) {
        return undecodable(errorText(e));
      }
    case 2:
      try {
        return confChangeV2Json(data);
      } catch (e) {
        return undecodable(errorText(e));
      }
    default:
      return undecodable(`unknown entry type ${entry.type}`);
  }
}

/** Human size: `812 B`, `1.2 KB`, `3.4 MB` (1 KB = 1024 bytes). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

const SHORT_TEXT = 60;

function shortBytes(b: BytesJson): string {
  if (b.encoding === 'utf8') {
    const t = JSON.stringify(b.text).slice(1, -1); // escapes control characters, keeps the rest
    return t.length > SHORT_TEXT ? `${t.slice(0, SHORT_TEXT)}…` : t;
  }
  return `base64:${b.base64.length > SHORT_TEXT ? `${b.base64.slice(0, SHORT_TEXT)}…` : b.base64}`;
}

function rangeText(key: BytesJson, end: BytesJson | undefined): string {
  if (end === undefined) return shortBytes(key);
  if (end.encoding === 'utf8' && end.text === '\0') return `${shortBytes(key)} .. (end)`;
  return `${shortBytes(key)} .. ${shortBytes(end)}`;
}

function kvOpText(r: KvOpJson): string {
  switch (r.op) {
    case 'put':
      return `PUT ${shortBytes(r.key)} (${formatBytes(r.value.bytes)})${r.lease !== undefined ? ` lease=${r.leaseHex}` : ''}`;
    case 'delete_range':
      return `DELETE_RANGE ${rangeText(r.key, r.rangeEnd)}`;
    case 'range':
      return `RANGE ${rangeText(r.key, r.rangeEnd)}`;
    case 'txn':
      return `TXN ${r.compare.length} cmp, ${r.success.length}/${r.failure.length} ops`;
    case 'none':
      return 'EMPTY';
  }
}

function v2Text(r: V2RequestJson): string {
  const val = r.val !== undefined ? ` = ${shortBytes(r.val)}` : '';
  return `V2 ${r.method} ${r.path}${val}`;
}

function v3Text(r: V3RequestJson): string {
  switch (r.op) {
    case 'put':
    case 'delete_range':
    case 'range':
    case 'txn':
    case 'none':
      return kvOpText(r);
    case 'compaction':
      return `COMPACTION rev=${r.revision}${r.physical ? ' physical' : ''}`;
    case 'lease_grant':
      return `LEASE_GRANT id=${r.idHex} ttl=${r.ttl}`;
    case 'lease_revoke':
      return `LEASE_REVOKE id=${r.idHex}`;
    case 'lease_checkpoint':
      return `LEASE_CHECKPOINT ${r.checkpoints.map((c) => `${c.idHex} remaining=${c.remainingTtl}`).join(', ')}`;
    case 'alarm':
      return `ALARM ${r.action} ${r.alarm} member=${r.memberIdHex}`;
    case 'auth_enable':
    case 'auth_disable':
    case 'auth_status':
    case 'auth_user_list':
    case 'auth_role_list':
      return r.op.toUpperCase();
    case 'authenticate':
    case 'auth_user_add':
    case 'auth_user_delete':
    case 'auth_user_get':
    case 'auth_user_change_password':
    case 'auth_role_add':
      return `${r.op.toUpperCase()} ${r.name}`;
    case 'auth_user_grant_role':
      return `AUTH_USER_GRANT_ROLE ${r.user} ${r.role}`;
    case 'auth_user_revoke_role':
      return `AUTH_USER_REVOKE_ROLE ${r.name} ${r.role}`;
    case 'auth_role_delete':
    case 'auth_role_get':
      return `${r.op.toUpperCase()} ${r.role}`;
    case 'auth_role_grant_permission':
      return `AUTH_ROLE_GRANT_PERMISSION ${r.name} ${r.permType} ${rangeText(r.key, r.rangeEnd)}`;
    case 'auth_role_revoke_permission':
      return `AUTH_ROLE_REVOKE_PERMISSION ${r.role} ${rangeText(r.key, r.rangeEnd)}`;
    case 'cluster_version_set':
      return `CLUSTER_VERSION_SET ${r.ver}`;
    case 'cluster_member_attr_set':
      return `CLUSTER_MEMBER_ATTR_SET ${r.memberIdHex} name=${r.name}`;
    case 'downgrade_info_set':
      return `DOWNGRADE_INFO_SET enabled=${r.enabled}${r.ver !== '' ? ` ver=${r.ver}` : ''}`;
    case 'downgrade_version_test':
      return `DOWNGRADE_VERSION_TEST ${r.ver}`;
    case 'v2':
      return v2Text(r.request);
  }
}

/** One line for an already described payload (see summarizeEntry). */
export function summarizePayload(p: EntryPayloadJson): string {
  switch (p.kind) {
    case 'noop':
      return 'NOOP';
    case 'v3':
      return v3Text(p.request);
    case 'v2':
      return v2Text(p.request);
    case 'conf_change':
      return `CONF_CHANGE ${p.type.replace(/^ConfChange/, '')} ${p.nodeIdHex}`;
    case 'conf_change_v2':
      return p.changes.length === 0
        ? `CONF_CHANGE_V2 ${p.transition} (leave joint)`
        : `CONF_CHANGE_V2 ${p.transition} ${p.changes.map((c) => `${c.type.replace(/^ConfChange/, '')} ${c.nodeIdHex}`).join(', ')}`;
    case 'undecodable':
      return `UNDECODABLE (${Buffer.from(p.dataBase64, 'base64').length} bytes): ${p.error}`;
  }
}

/**
 * One line describing an entry, e.g. `PUT /registry/pods/default/web-1 (1.2 KB)`,
 * `TXN 2 cmp, 1/1 ops`, `LEASE_GRANT id=13b0a2122cd5bf07 ttl=600`, `CONF_CHANGE AddNode 8e9e05c52164694d`,
 * `V2 PUT /0/version = 3.5.0`, `NOOP`.
 */
export function summarizeEntry(entry: Entry): string {
  return summarizePayload(describeEntry(entry));
}
