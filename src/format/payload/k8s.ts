/**
 * Kubernetes-aware reading of etcd keys and values (spec etcd-kubernetes.md §10).
 *
 * kube-apiserver stores each object at `/registry/<resource-path>/<namespace>/<name>` (cluster-scoped
 * objects: `/registry/<resource-path>/<name>`). The value is one of:
 *   - `k8s\0` + a `runtime.Unknown` message: typeMeta (1) {apiVersion 1, kind 2}, raw (2) = the object
 *     encoded as its Go type, contentEncoding (3), contentType (4). Every top-level object carries
 *     ObjectMeta as field 1 of `raw`, so identifying it needs no other schema;
 *   - JSON `{"kind":...,"apiVersion":...,"metadata":{...}}` (custom resources, CRDs, ...);
 *   - `k8s:enc:<provider>:<version>:<keyName>:` + ciphertext (encrypted at rest: only the prefix is
 *     readable without the keys).
 * The messages are read field by field with the project's wire reader (format/proto/wire.ts),
 * checking each wire type, so a message that is not what we expect is reported, not misread; its
 * failures read as Kubernetes' own gogoproto code would put them (`proto: ObjectMeta: illegal tag
 * 0 (wire type 0)`, `unexpected EOF`), with the byte. Nothing here throws on bad bytes: what could
 * be read comes back with an `error` string.
 */
import { WireFailure, WireReader, unmarshalFailureText } from '../proto/wire.js';
import { bytesOf } from './keys.js';
import type { BytesJson, EntryPayloadJson, KvOpJson } from './payload-schema.js';

export const K8S_PROTOBUF_MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00); // "k8s\0"
const ENC_PREFIX = 'k8s:enc:';

/** Where a `/registry/...` key says the object lives. */
export interface K8sKeyJson {
  /** the resource (plural), e.g. `pods`, `services`, `nodes`, `widgets` */
  resource: string;
  /** the key's path segment(s) for it when they differ from `resource` (`minions`, `services/specs`, `example.com/widgets`) */
  resourcePath?: string;
  /** API group when the path names it (`example.com`, `apiextensions.k8s.io`) */
  group?: string;
  /** absent for cluster-scoped objects */
  namespace?: string;
  name?: string;
}

export interface K8sEncryptionJson {
  provider: string;
  version: string;
  /** key name (aescbc, aesgcm, secretbox) or plugin/provider name (kms) */
  keyName: string;
}

export interface K8sObjectJson {
  encoding: 'protobuf' | 'json' | 'encrypted' | 'other';
  apiVersion?: string;
  kind?: string;
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  /** as stored (kube-apiserver clears it: the object's resourceVersion is the key's mod_revision) */
  resourceVersion?: string;
  /** RFC 3339, UTC */
  creationTimestamp?: string;
  /** protobuf envelope: contentType / contentEncoding when set */
  contentType?: string;
  contentEncoding?: string;
  encryption?: K8sEncryptionJson;
  /** what could not be read (the fields above are what could) */
  error?: string;
}

/**
 * What an etcd write does to a Kubernetes object: `op` put or delete_range, the key's view, and for
 * puts the value's view. `namespace`/`name` are the value's when it says so, otherwise the key's.
 */
export interface K8sOpJson {
  op: 'put' | 'delete_range';
  key: string;
  resource: string;
  group?: string;
  namespace?: string;
  name?: string;
  /** delete_range with a range end: a prefix or range delete, not one object */
  range?: true;
  /** inside a txn: the branch holding this op (the WAL does not say which branch ran) */
  txnBranch?: 'success' | 'failure';
  /** puts: the decoded value */
  object?: K8sObjectJson;
}

// Resource paths kube-apiserver uses that are not the plural resource name (etcd-kubernetes.md §10.1).
const PATH_RESOURCE: Record<string, string> = {
  controllers: 'replicationcontrollers',
  minions: 'nodes',
  'services/specs': 'services',
  'services/endpoints': 'endpoints',
  ingress: 'ingresses',
  podsecuritypolicy: 'podsecuritypolicies',
};

/**
 * Splits a key under `prefix` (default `/registry/`) into resource, namespace and name; undefined
 * when the key is not under the prefix. Two-segment resource paths (`services/specs`,
 * `services/endpoints`, `<dotted-group>/<resource>`) are tried first; then one segment. After the
 * resource path, two segments are namespace and name, one is a cluster-scoped name.
 */
export function parseRegistryKey(key: string, prefix = '/registry/'): K8sKeyJson | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const segs = key.slice(prefix.length).split('/');
  const first = segs[0] ?? '';
  if (first === '') return undefined;
  let pathLen = 1;
  if (segs.length >= 2 && (first.includes('.') || (first === 'services' && (segs[1] === 'specs' || segs[1] === 'endpoints')))) pathLen = 2;
  const path = segs.slice(0, pathLen).join('/');
  // Object.hasOwn: a path such as `constructor` or `__proto__` must not find Object.prototype's.
  const renamed = Object.hasOwn(PATH_RESOURCE, path) ? PATH_RESOURCE[path] : undefined;
  const out: K8sKeyJson = { resource: renamed ?? (pathLen === 2 && first.includes('.') ? segs[1]! : path) };
  if (out.resource !== path) out.resourcePath = path;
  if (pathLen === 2 && first.includes('.')) out.group = first;
  const rest = segs.slice(pathLen);
  if (rest.length === 1) {
    if (rest[0] !== '') out.name = rest[0]!;
  } else if (rest.length >= 2) {
    out.namespace = rest[0]!;
    out.name = rest.slice(1).join('/');
  }
  return out;
}

function startsWith(b: Uint8Array, p: Uint8Array): boolean {
  if (b.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Bytes of a length-delimited field as text; a TypeError when not UTF-8 (caught by the caller). */
function text(r: WireReader): string {
  return utf8.decode(r.bytes());
}

/**
 * Walks a message's fields. `expect` gives the wire type each known field must have; a known field
 * with another wire type means the bytes are not that message (an error naming the field). Unknown
 * fields are skipped.
 */
function eachField(buf: Uint8Array, what: string, expect: Record<number, number>, on: (no: number, r: WireReader) => void): void {
  const r = new WireReader(buf, what);
  try {
    while (r.pos < r.end) {
      const no = r.tag();
      const want = expect[no];
      if (want === undefined) {
        r.skipField();
        continue;
      }
      if (want !== r.wireType) throw new Error(`${what}: field ${no} has wire type ${r.wireType}, expected ${want}`);
      on(no, r);
    }
  } catch (e) {
    if (e instanceof WireFailure) throw new Error(`${what}: ${unmarshalFailureText(e.failure)} at byte ${e.failure.at}`);
    throw e;
  }
}

const LEN = 2;
const VARINT = 0;

function timeOf(buf: Uint8Array): string {
  let seconds = 0n;
  let nanos = 0;
  eachField(buf, 'Time', { 1: VARINT, 2: VARINT }, (no, r) => {
    if (no === 1) seconds = r.int64();
    else nanos = r.varint() | 0; // int32
  });
  if (nanos < 0 || nanos > 999_999_999) throw new Error(`Time: nanos ${nanos} out of range`);
  // metav1.Time is RFC 3339 to the second in JSON (nanos are dropped), as kubectl shows it.
  const d = new Date(Number(seconds) * 1000);
  if (Number.isNaN(d.getTime())) throw new Error(`Time: seconds ${seconds} out of range`);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ObjectMeta field numbers and wire types (apimachinery pkg/apis/meta/v1/generated.proto).
const OBJECT_META: Record<number, number> = {
  1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 7: VARINT, 8: LEN, 9: LEN, 10: VARINT,
  11: LEN, 12: LEN, 13: LEN, 14: LEN, 17: LEN,
};

function objectMeta(buf: Uint8Array, out: K8sObjectJson): void {
  eachField(buf, 'ObjectMeta', OBJECT_META, (no, r) => {
    switch (no) {
      case 1: out.name = text(r); break;
      case 2: out.generateName = text(r); break;
      case 3: out.namespace = text(r); break;
      case 5: out.uid = text(r); break;
      case 6: out.resourceVersion = text(r); break;
      case 8: out.creationTimestamp = timeOf(r.bytes()); break;
      case 7: case 10: r.skipVarint(); break;
      default: r.pos = r.lengthEnd();
    }
  });
  for (const k of ['generateName', 'namespace', 'uid', 'resourceVersion'] as const) if (out[k] === '') delete out[k];
}

/**
 * `k8s\0` + runtime.Unknown: type, then ObjectMeta (field 1 of raw). Damage after `raw` (or in
 * contentType) still leaves the object identified; metadata is only reported when ObjectMeta reads
 * cleanly (types without ObjectMeta, such as `*Options` or `Status`, say so in `error`).
 */
function decodeProtobuf(value: Uint8Array): K8sObjectJson {
  const out: K8sObjectJson = { encoding: 'protobuf' };
  const errors: string[] = [];
  let raw: Uint8Array | undefined;
  try {
    eachField(value.subarray(K8S_PROTOBUF_MAGIC.length), 'runtime.Unknown', { 1: LEN, 2: LEN, 3: LEN, 4: LEN }, (no, r) => {
      switch (no) {
        case 1:
          eachField(r.bytes(), 'TypeMeta', { 1: LEN, 2: LEN }, (n, t) => {
            if (n === 1) out.apiVersion = text(t);
            else out.kind = text(t);
          });
          break;
        case 2: raw = r.bytes(); break;
        case 3: out.contentEncoding = text(r); break;
        case 4: out.contentType = text(r); break;
      }
    });
  } catch (e) {
    errors.push(`envelope: ${errorText(e)}`);
  }
  if (out.contentEncoding === '') delete out.contentEncoding;
  if (out.contentType === '') delete out.contentType;
  if (raw === undefined) errors.push('runtime.Unknown has no raw object (field 2)');
  else {
    try {
      let meta: Uint8Array | undefined;
      eachField(raw, out.kind || 'object', { 1: LEN }, (_no, r) => {
        if (meta === undefined) meta = r.bytes();
        else r.pos = r.lengthEnd();
      });
      if (meta === undefined) errors.push('the object has no metadata (field 1)');
      else {
        const m: K8sObjectJson = { encoding: 'protobuf' };
        objectMeta(meta, m); // throws before anything is copied: no half-read metadata
        for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const) {
          if (m[k] !== undefined) out[k] = m[k];
        }
      }
    } catch (e) {
      errors.push(`metadata: ${errorText(e)}`);
    }
  }
  if (errors.length > 0) out.error = errors.join('; ');
  return out;
}

function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function decodeJson(value: Uint8Array): K8sObjectJson {
  const out: K8sObjectJson = { encoding: 'json' };
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(value));
  } catch (e) {
    return { ...out, error: `not JSON: ${errorText(e)}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ...out, error: 'JSON value is not an object' };
  const o = doc as Record<string, unknown>;
  const set = (k: 'apiVersion' | 'kind', v: string | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('apiVersion', str(o, 'apiVersion'));
  set('kind', str(o, 'kind'));
  const m = o['metadata'];
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { ...out, error: 'no metadata object' };
  const meta = m as Record<string, unknown>;
  for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const) {
    const v = str(meta, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function decodeEncrypted(value: Uint8Array): K8sObjectJson {
  // provider, version and key name are text up to the 5th ':'; look at most 512 bytes in.
  const head = Buffer.from(value.subarray(0, 512)).toString('latin1');
  const parts = head.slice(ENC_PREFIX.length).split(':');
  if (parts.length < 4) return { encoding: 'encrypted', error: 'encrypted value: prefix k8s:enc:<provider>:<version>:<key>: not complete' };
  return { encoding: 'encrypted', encryption: { provider: parts[0]!, version: parts[1]!, keyName: parts[2]! } };
}

/** What a stored value says about the object (by its first bytes: `k8s\0`, `{`, `k8s:enc:`). */
export function decodeK8sValue(value: Uint8Array): K8sObjectJson {
  if (startsWith(value, K8S_PROTOBUF_MAGIC)) return decodeProtobuf(value);
  if (startsWith(value, Buffer.from(ENC_PREFIX, 'latin1'))) return decodeEncrypted(value);
  let i = 0;
  while (i < value.length && (value[i] === 0x20 || value[i] === 0x0a || value[i] === 0x0d || value[i] === 0x09)) i++;
  if (value[i] === 0x7b) return decodeJson(value);
  return { encoding: 'other' };
}

/** A write (put: key + value; delete_range: key, and a range end when it deletes a range) under `prefix`. */
export function k8sOp(op: 'put' | 'delete_range', key: Uint8Array, value: Uint8Array | undefined, hasRangeEnd: boolean, prefix = '/registry/'): K8sOpJson | undefined {
  let keyText: string;
  try {
    keyText = utf8.decode(key);
  } catch {
    return undefined; // not UTF-8: not a kube-apiserver key
  }
  const k = parseRegistryKey(keyText, prefix);
  if (!k) return undefined;
  const out: K8sOpJson = { op, key: keyText, resource: k.resource };
  if (k.group !== undefined) out.group = k.group;
  if (k.namespace !== undefined) out.namespace = k.namespace;
  if (k.name !== undefined) out.name = k.name;
  if (hasRangeEnd) out.range = true;
  if (op === 'put' && value !== undefined) {
    const obj = decodeK8sValue(value);
    out.object = obj;
    if (obj.name !== undefined) out.name = obj.name;
    if (obj.namespace !== undefined) out.namespace = obj.namespace;
  }
  return out;
}

function collect(op: KvOpJson, prefix: string, out: K8sOpJson[], branch: 'success' | 'failure' | undefined): void {
  let o: K8sOpJson | undefined;
  if (op.op === 'put') o = k8sOp('put', bytesOf(op.key), bytesOf(op.value), false, prefix);
  else if (op.op === 'delete_range') o = k8sOp('delete_range', bytesOf(op.key), undefined, op.rangeEnd !== undefined, prefix);
  else if (op.op === 'txn') {
    for (const s of op.success) collect(s, prefix, out, 'success');
    for (const f of op.failure) collect(f, prefix, out, 'failure');
  }
  if (o) {
    if (branch) o.txnBranch = branch;
    out.push(o);
  }
}

/**
 * The Kubernetes objects an entry's request writes (puts and deletes, also inside txns: kube-apiserver
 * writes through txns) with keys under `prefix`. The payload must be described without
 * `maxValueBytes` (values are decoded from the full bytes).
 */
export function k8sOps(p: EntryPayloadJson, prefix = '/registry/'): K8sOpJson[] {
  const out: K8sOpJson[] = [];
  if (p.kind !== 'v3') return out;
  const r = p.request;
  if (r.op === 'put' || r.op === 'delete_range' || r.op === 'txn') collect(r as KvOpJson, prefix, out, undefined);
  return out;
}

const ENCRYPTED_PREFIX = 'k8s:enc:';

function valueStartsEncrypted(v: BytesJson): boolean {
  if (v.encoding === 'utf8') return v.text.startsWith(ENCRYPTED_PREFIX);
  return Buffer.from(v.base64.slice(0, 16), 'base64').toString('latin1').startsWith(ENCRYPTED_PREFIX);
}

function keyText(k: BytesJson): string {
  return k.encoding === 'utf8' ? k.text : Buffer.from(k.base64, 'base64').toString('latin1');
}

/**
 * Replace the value of every put (also inside txns, and value compares) to a Kubernetes Secret
 * key (`<prefix>secrets/...`) that is not encrypted at rest (no `k8s:enc:` prefix) with
 * `<masked: N bytes>` and `masked: true`: kube-apiserver without an EncryptionConfiguration writes
 * Secret data in the clear, and an export is easily pasted into a ticket. Returns how many values
 * were masked. The payload is changed in place.
 */
export function maskSecretValues(p: EntryPayloadJson, prefix = '/registry/'): number {
  if (p.kind !== 'v3') return 0;
  let n = 0;
  // Only a key naming "secrets" can parse to that resource (no path maps to it): most keys stop there.
  const isSecret = (k: BytesJson) => {
    const t = keyText(k);
    return t.includes('secrets') && parseRegistryKey(t, prefix)?.resource === 'secrets';
  };
  const plain = (v: BytesJson) => !v.masked && !valueStartsEncrypted(v);
  const masked = (v: BytesJson): BytesJson => ({ encoding: 'utf8', text: `<masked: ${v.bytes} bytes>`, bytes: v.bytes, masked: true });
  const walk = (op: KvOpJson | Extract<EntryPayloadJson, { kind: 'v3' }>['request']): void => {
    if (op.op === 'put') {
      if (isSecret(op.key) && plain(op.value)) {
        op.value = masked(op.value);
        n++;
      }
    } else if (op.op === 'txn') {
      for (const c of op.compare) {
        const v = (c as { value?: BytesJson; key?: BytesJson }).value;
        const k = (c as { key?: BytesJson }).key;
        if (v && k && isSecret(k) && plain(v)) {
          (c as { value?: BytesJson }).value = masked(v);
          n++;
        }
      }
      for (const o of op.success) walk(o);
      for (const o of op.failure) walk(o);
    }
  };
  walk(p.request);
  return n;
}
