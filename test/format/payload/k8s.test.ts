// Kubernetes-aware decoding (src/format/payload/k8s.ts) against bytes nobody here wrote, read in place from
// ../shared/external (see its README): kubernetes/api testdata/HEAD/*.pb (one protobuf object per
// built-in API type in the k8s\0 envelope, named <group>.<version>.<Kind>.pb, core types as
// core.<version>.<Kind>.pb) and etcd-io/auger cmd/testdata (a Pod and a Job as stored by the API
// server, with JSON twins and the expected meta summary). Plus key layouts and damaged bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeK8sValue, k8sOp, parseRegistryKey } from '../../../src/format/payload/k8s.js';
import { decodeOk } from '../../support/proto.js';
import { externalFile } from '../../support/external.js';

/** apiVersion and kind a kubernetes/api testdata file name stands for. */
function expectedType(file: string): { apiVersion: string; kind: string } {
  const parts = file.slice(0, -'.pb'.length).split('.');
  const kind = parts.pop()!;
  const version = parts.pop()!;
  const group = parts.join('.');
  return { apiVersion: group === 'core' ? version : `${group}/${version}`, kind };
}

// Types in the testdata that are not stored objects: no ObjectMeta at field 1 of raw (options,
// Status with ListMeta, reviews/references whose field 1 is something else).
const NO_OBJECT_META = new Set([
  'admission.k8s.io.v1.AdmissionReview.pb', 'admission.k8s.io.v1beta1.AdmissionReview.pb',
  'apps.v1beta1.DeploymentRollback.pb', 'extensions.v1beta1.DeploymentRollback.pb',
  'core.v1.APIGroup.pb', 'core.v1.APIVersions.pb', 'core.v1.CreateOptions.pb', 'core.v1.DeleteOptions.pb',
  'core.v1.GetOptions.pb', 'core.v1.ListOptions.pb', 'core.v1.NodeProxyOptions.pb', 'core.v1.PatchOptions.pb',
  'core.v1.PodAttachOptions.pb', 'core.v1.PodExecOptions.pb', 'core.v1.PodLogOptions.pb',
  'core.v1.PodPortForwardOptions.pb', 'core.v1.PodProxyOptions.pb', 'core.v1.SerializedReference.pb',
  'core.v1.ServiceProxyOptions.pb', 'core.v1.Status.pb', 'core.v1.UpdateOptions.pb', 'core.v1.WatchEvent.pb',
]);

describe('k8s: kubernetes/api testdata (one object per built-in type)', () => {
  it('every .pb file: apiVersion and kind from the envelope match the file name; objects give their metadata', (t) => {
    const dir = externalFile(t, 'kubernetes-api');
    if (!dir) return;
    const files = readdirSync(dir).filter((f) => f.endsWith('.pb')).sort();
    assert.ok(files.length >= 190, `only ${files.length} .pb files`);
    const mismatched: string[] = [];
    let withMeta = 0;
    for (const f of files) {
      const o = decodeK8sValue(readFileSync(join(dir, f)));
      assert.equal(o.encoding, 'protobuf', f);
      const want = expectedType(f);
      if (o.apiVersion !== want.apiVersion || o.kind !== want.kind) mismatched.push(`${f}: ${o.apiVersion}/${o.kind}`);
      if (NO_OBJECT_META.has(f)) {
        // never misread: no half-decoded metadata, and the error says why
        assert.equal(o.name, undefined, f);
        assert.match(o.error ?? '', /^metadata: /, f);
        continue;
      }
      withMeta++;
      // the testdata objects are filled with "<field>Value" strings and a fixed time
      assert.equal(o.error, undefined, `${f}: ${o.error}`);
      assert.equal(o.name, 'nameValue', f);
      assert.equal(o.namespace, 'namespaceValue', f);
      assert.equal(o.uid, 'uidValue', f);
      assert.equal(o.resourceVersion, 'resourceVersionValue', f);
      assert.equal(o.creationTimestamp, '2008-01-01T01:01:01Z', f);
    }
    // WatchEvent is written by kubernetes/api's roundtrip test with an empty TypeMeta (0a 00): its
    // envelope names no type at all. Every other file matches its name.
    assert.deepEqual(mismatched, ['core.v1.WatchEvent.pb: /']);
    assert.equal(withMeta, files.length - NO_OBJECT_META.size);
    t.diagnostic(`${files.length} .pb files: ${files.length - mismatched.length} with matching apiVersion/kind, ${withMeta} with full metadata`);
  });

  it('truncated and bit-flipped envelopes never throw', (t) => {
    const p = externalFile(t, 'kubernetes-api/core.v1.Pod.pb');
    if (!p) return;
    const b = readFileSync(p);
    for (let n = 0; n < b.length; n += Math.max(1, Math.floor(n / 8))) {
      const o = decodeK8sValue(b.subarray(0, n));
      if (n >= 4) assert.equal(o.encoding, 'protobuf');
      if (n > 4 && n < b.length) assert.ok(o.error !== undefined || o.name !== undefined, `prefix ${n}`);
    }
    for (let i = 4; i < b.length; i += 7) {
      const c = Buffer.from(b);
      c[i] = c[i]! ^ 0x80;
      decodeK8sValue(c); // must not throw
    }
    const o = decodeK8sValue(b.subarray(0, 40));
    assert.equal(o.kind, 'Pod');
    assert.match(o.error ?? '', /envelope: /);
  });
});

describe('k8s: etcd-io/auger testdata (Pod and Job as stored)', () => {
  for (const name of ['pod', 'job']) {
    it(`storage/${name}.bin matches json/${name}.json and meta/${name}.txt`, (t) => {
      const bin = externalFile(t, `auger/storage/${name}.bin`);
      const json = externalFile(t, `auger/json/${name}.json`);
      const meta = externalFile(t, `auger/meta/${name}.txt`);
      if (!bin || !json || !meta) return;
      const twin = JSON.parse(readFileSync(json, 'utf8')) as { apiVersion: string; kind: string; metadata: Record<string, string> };
      const summary = Object.fromEntries(readFileSync(meta, 'utf8').trim().split('\n').map((l) => l.split(': ') as [string, string]));
      const raw = readFileSync(bin);
      // auger's files end in a newline after the message: the object is still read, the stray byte reported
      assert.equal(raw[raw.length - 1], 0x0a);
      const withNl = decodeK8sValue(raw);
      assert.match(withNl.error ?? '', /^envelope: runtime.Unknown: unexpected EOF at byte \d+$/);
      for (const o of [withNl, decodeK8sValue(raw.subarray(0, raw.length - 1))]) {
        assert.equal(o.apiVersion, summary['TypeMeta.APIVersion']);
        assert.equal(o.kind, summary['TypeMeta.Kind']);
        assert.equal(o.apiVersion, twin.apiVersion);
        assert.equal(o.kind, twin.kind);
        assert.equal(o.name, twin.metadata['name']);
        assert.equal(o.namespace, twin.metadata['namespace']);
        assert.equal(o.uid, twin.metadata['uid']);
        assert.equal(o.generateName, twin.metadata['generateName']);
        assert.equal(o.creationTimestamp, twin.metadata['creationTimestamp']);
      }
      assert.equal(decodeK8sValue(raw.subarray(0, raw.length - 1)).error, undefined);
      // the JSON twin decodes to the same identity
      const fromJson = decodeK8sValue(readFileSync(json));
      assert.equal(fromJson.encoding, 'json');
      assert.equal(fromJson.error, undefined);
      for (const k of ['apiVersion', 'kind', 'name', 'namespace', 'uid', 'creationTimestamp'] as const) assert.equal(fromJson[k], withNl[k], k);
    });
  }

  it('pod-with-key.bin: key line, then the value; the key and the object agree', (t) => {
    const p = externalFile(t, 'auger/storage/pod-with-key.bin');
    if (!p) return;
    const b = readFileSync(p);
    const nl = b.indexOf(0x0a);
    const key = b.subarray(0, nl);
    const op = k8sOp('put', key, b.subarray(nl + 1, b.length - 1), false);
    assert.ok(op);
    assert.equal(op.key, '/registry/pods/default/xyz');
    assert.equal(op.resource, 'pods');
    assert.equal(op.object?.kind, 'Pod');
    assert.equal(op.namespace, 'default');
    // the stored object's name (pi-dqtsw) wins over the key's (xyz) for a put
    assert.equal(op.name, 'pi-dqtsw');
    assert.equal(k8sOp('delete_range', key, undefined, false)?.name, 'xyz');
  });
});

describe('k8s: etcd-io/auger boltdb leaf items (mvccpb.KeyValue from a real Kubernetes db)', () => {
  // page2item<i>.bin: a KeyValue as etcd stored it in the "key" bucket; -key.txt its key
  const want: Record<string, { kind: string; apiVersion: string }> = {
    '/registry/namespaces/default': { kind: 'Namespace', apiVersion: 'v1' },
    '/registry/pods/default/pi-dqtsw': { kind: 'Pod', apiVersion: 'v1' },
    '/registry/jobs/default/pi': { kind: 'Job', apiVersion: 'batch/v1' },
  };
  for (const i of [0, 1, 2]) {
    it(`page2item${i}: the key and the stored object name the same object`, (t) => {
      const bin = externalFile(t, `auger/boltdb/page2item${i}.bin`);
      const keyFile = externalFile(t, `auger/boltdb/page2item${i}-key.txt`);
      if (!bin || !keyFile) return;
      const kv = decodeOk('mvccpb.KeyValue', readFileSync(bin));
      const key = kv['key'] as Uint8Array;
      assert.equal(Buffer.from(key).toString('utf8'), readFileSync(keyFile, 'utf8').trim());
      const op = k8sOp('put', key, kv['value'] as Uint8Array, false);
      assert.ok(op);
      const fromKey = parseRegistryKey(op.key)!;
      assert.equal(op.object?.error, undefined);
      assert.equal(op.object?.kind, want[op.key]?.kind);
      assert.equal(op.object?.apiVersion, want[op.key]?.apiVersion);
      assert.equal(op.object?.name, fromKey.name);
      assert.equal(op.object?.namespace, fromKey.namespace); // namespaces are cluster-scoped: both undefined
      assert.match(op.object?.uid ?? '', /^[0-9a-f-]{36}$/);
      assert.match(op.object?.creationTimestamp ?? '', /^2017-06-27T\d\d:\d\d:\d\dZ$/);
    });
  }
});

describe('k8s: keys', () => {
  const cases: [string, ReturnType<typeof parseRegistryKey>][] = [
    ['/registry/pods/default/web-1', { resource: 'pods', namespace: 'default', name: 'web-1' }],
    ['/registry/namespaces/kube-system', { resource: 'namespaces', name: 'kube-system' }],
    ['/registry/minions/node-a', { resource: 'nodes', resourcePath: 'minions', name: 'node-a' }],
    ['/registry/services/specs/default/kubernetes', { resource: 'services', resourcePath: 'services/specs', namespace: 'default', name: 'kubernetes' }],
    ['/registry/services/endpoints/default/kubernetes', { resource: 'endpoints', resourcePath: 'services/endpoints', namespace: 'default', name: 'kubernetes' }],
    ['/registry/controllers/default/rc', { resource: 'replicationcontrollers', resourcePath: 'controllers', namespace: 'default', name: 'rc' }],
    ['/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com',
      { resource: 'customresourcedefinitions', resourcePath: 'apiextensions.k8s.io/customresourcedefinitions', group: 'apiextensions.k8s.io', name: 'widgets.example.com' }],
    ['/registry/example.com/widgets/default/w1', { resource: 'widgets', resourcePath: 'example.com/widgets', group: 'example.com', namespace: 'default', name: 'w1' }],
    ['/registry/deployments/', { resource: 'deployments' }],
    // names of Object.prototype's members are resources like any other
    ['/registry/constructor/x', { resource: 'constructor', name: 'x' }],
    ['/registry/__proto__/ns/y', { resource: '__proto__', namespace: 'ns', name: 'y' }],
    ['/registry/toString/z', { resource: 'toString', name: 'z' }],
    ['/registry/', undefined],
    ['/other/pods/default/x', undefined],
    ['compact_rev_key', undefined],
  ];
  for (const [key, want] of cases) it(key, () => assert.deepEqual(parseRegistryKey(key), want));

  it('a key that is not UTF-8 is not a Kubernetes key', () => {
    assert.equal(k8sOp('put', Uint8Array.of(0x2f, 0xff, 0xfe), Uint8Array.of(), false), undefined);
  });
});

describe('k8s: values', () => {
  it('encrypted at rest: provider, version and key name; never an error', () => {
    for (const [prefix, provider, version, keyName] of [
      ['k8s:enc:aescbc:v1:key1:', 'aescbc', 'v1', 'key1'],
      ['k8s:enc:aesgcm:v1:k2:', 'aesgcm', 'v1', 'k2'],
      ['k8s:enc:secretbox:v1:sb:', 'secretbox', 'v1', 'sb'],
      ['k8s:enc:kms:v2:my-kms:', 'kms', 'v2', 'my-kms'],
    ] as const) {
      const v = Buffer.concat([Buffer.from(prefix), Buffer.from([0x00, 0xff, 0x3a, 0x10])]);
      assert.deepEqual(decodeK8sValue(v), { encoding: 'encrypted', encryption: { provider, version, keyName } });
    }
    assert.match(decodeK8sValue(Buffer.from('k8s:enc:aescbc')).error ?? '', /not complete/);
  });

  it('JSON: identity from metadata; broken JSON is an error, not an exception', () => {
    const o = decodeK8sValue(Buffer.from('{"kind":"Widget","apiVersion":"example.com/v1","metadata":{"name":"w","namespace":"ns","uid":"u","creationTimestamp":"2026-01-02T03:04:05Z"}}'));
    assert.deepEqual(o, { encoding: 'json', apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', namespace: 'ns', uid: 'u', creationTimestamp: '2026-01-02T03:04:05Z' });
    assert.match(decodeK8sValue(Buffer.from('{"kind":"Wid')).error ?? '', /^not JSON/);
    assert.equal(decodeK8sValue(Buffer.from('{"kind":"X"}')).error, 'no metadata object');
    assert.match(decodeK8sValue(Uint8Array.of(0x7b, 0xff)).error ?? '', /^not JSON/);
  });

  it('anything else is "other"', () => {
    assert.deepEqual(decodeK8sValue(Buffer.from('12345')), { encoding: 'other' });
    assert.deepEqual(decodeK8sValue(Uint8Array.of()), { encoding: 'other' });
  });
});
