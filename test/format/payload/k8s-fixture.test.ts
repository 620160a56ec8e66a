// `wal-doctor export --k8s` on fixtures/v35-k8s: Kubernetes values written through real etcd 3.5.30
// by fixtures/generate.mjs (real kubernetes/api protobuf objects in the k8s\0 envelope, a JSON custom
// resource, an aescbc-encrypted secret, a delete), read back from the WAL by the real CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli, treeHashes } from '../../support/cli.js';
import { externalFile } from '../../support/external.js';
import { loadFixture } from '../../support/fixtures.js';
import { bytesOf } from '../../../src/format/payload/keys.js';
import { ExportLine } from '../../../src/export/ndjson-schema.js';

interface Want {
  key: string;
  op: 'put' | 'delete_range';
  resource: string;
  namespace?: string;
  name: string;
  encoding?: string;
  apiVersion?: string;
  kind?: string;
}

const WANT: Want[] = [
  { key: '/registry/pods/namespaceValue/nameValue', op: 'put', resource: 'pods', namespace: 'namespaceValue', name: 'nameValue', encoding: 'protobuf', apiVersion: 'v1', kind: 'Pod' },
  { key: '/registry/deployments/namespaceValue/nameValue', op: 'put', resource: 'deployments', namespace: 'namespaceValue', name: 'nameValue', encoding: 'protobuf', apiVersion: 'apps/v1', kind: 'Deployment' },
  { key: '/registry/services/specs/namespaceValue/nameValue', op: 'put', resource: 'services', namespace: 'namespaceValue', name: 'nameValue', encoding: 'protobuf', apiVersion: 'v1', kind: 'Service' },
  { key: '/registry/configmaps/namespaceValue/nameValue', op: 'put', resource: 'configmaps', namespace: 'namespaceValue', name: 'nameValue', encoding: 'protobuf', apiVersion: 'v1', kind: 'ConfigMap' },
  // cluster-scoped (the testdata object has a namespace in its metadata; the key has none)
  { key: '/registry/namespaces/nameValue', op: 'put', resource: 'namespaces', namespace: 'namespaceValue', name: 'nameValue', encoding: 'protobuf', apiVersion: 'v1', kind: 'Namespace' },
  { key: '/registry/example.com/widgets/default/w1', op: 'put', resource: 'widgets', namespace: 'default', name: 'w1', encoding: 'json', apiVersion: 'example.com/v1', kind: 'Widget' },
  { key: '/registry/secrets/default/s1', op: 'put', resource: 'secrets', namespace: 'default', name: 's1', encoding: 'encrypted' },
  { key: '/registry/configmaps/namespaceValue/nameValue', op: 'delete_range', resource: 'configmaps', namespace: 'namespaceValue', name: 'nameValue' },
];

function exportK8s(dir: string, extra: string[] = []): ExportLine[] {
  const r = runCli(['export', '--k8s', ...extra, dir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => ExportLine.parse(JSON.parse(l)));
}

describe('export --k8s on fixtures/v35-k8s (real etcd 3.5.30)', () => {
  it('every write under /registry/ shows kind, namespace and name; the encrypted one its provider and key', async () => {
    const fx = await loadFixture('v35-k8s');
    try {
      const before = treeHashes(fx.dir);
      const lines = exportK8s(fx.dir);
      const ops = lines.flatMap((l) => l.k8s ?? []);
      assert.equal(ops.length, WANT.length);
      for (const [i, w] of WANT.entries()) {
        const o = ops[i]!;
        assert.equal(o.key, w.key);
        assert.equal(o.op, w.op);
        assert.equal(o.resource, w.resource);
        assert.equal(o.namespace, w.namespace);
        assert.equal(o.name, w.name);
        if (w.op === 'delete_range') {
          assert.equal(o.object, undefined); // a delete is identified by its key
          continue;
        }
        assert.equal(o.object?.encoding, w.encoding, w.key);
        assert.equal(o.object?.error, undefined, w.key);
        assert.equal(o.object?.apiVersion, w.apiVersion);
        assert.equal(o.object?.kind, w.kind);
      }
      const secret = ops.find((o) => o.key === '/registry/secrets/default/s1')!;
      assert.deepEqual(secret.object, { encoding: 'encrypted', encryption: { provider: 'aescbc', version: 'v1', keyName: 'key1' } });
      assert.equal(ops.find((o) => o.key === '/registry/pods/namespaceValue/nameValue')?.object?.uid, 'uidValue');
      // entries outside /registry/ (the fixture's marker key) carry no k8s
      const marker = lines.find((l) => l.summary?.includes('/fixture/meta/last'));
      assert.ok(marker);
      assert.equal(marker.k8s, undefined);
      // without --k8s, nothing is added
      const r = runCli(['export', fx.dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes('"k8s"'));
      assert.deepEqual(treeHashes(fx.dir), before);
    } finally {
      fx.cleanup();
    }
  });

  it('--key-prefix /registry/pods/ filters; --max-value-bytes does not stop the decoding', async () => {
    const fx = await loadFixture('v35-k8s');
    try {
      const lines = exportK8s(fx.dir, ['--key-prefix', '/registry/pods/', '--max-value-bytes', '8']);
      assert.equal(lines.length, 1);
      const p = lines[0]!.payload;
      assert.ok(p?.kind === 'v3' && p.request.op === 'put' && p.request.value.truncated === true);
      assert.equal(lines[0]!.k8s?.[0]?.object?.kind, 'Pod');
      assert.equal(lines[0]!.k8s?.[0]?.name, 'nameValue');
    } finally {
      fx.cleanup();
    }
  });

  it('the protobuf values in the WAL are the kubernetes/api testdata objects, byte for byte', async (t) => {
    const files: Record<string, string> = {
      '/registry/pods/namespaceValue/nameValue': 'core.v1.Pod.pb',
      '/registry/deployments/namespaceValue/nameValue': 'apps.v1.Deployment.pb',
      '/registry/services/specs/namespaceValue/nameValue': 'core.v1.Service.pb',
      '/registry/configmaps/namespaceValue/nameValue': 'core.v1.ConfigMap.pb',
      '/registry/namespaces/nameValue': 'core.v1.Namespace.pb',
    };
    const fx = await loadFixture('v35-k8s');
    try {
      const puts = new Map<string, Buffer>();
      for (const l of exportK8s(fx.dir)) {
        const p = l.payload;
        if (p?.kind === 'v3' && p.request.op === 'put') puts.set(Buffer.from(bytesOf(p.request.key)).toString('utf8'), Buffer.from(bytesOf(p.request.value)));
      }
      for (const [key, f] of Object.entries(files)) {
        const path = externalFile(t, `kubernetes-api/${f}`);
        if (!path) return;
        assert.ok(puts.get(key)?.equals(readFileSync(path)), `${key} is not ${f}`);
      }
    } finally {
      fx.cleanup();
    }
  });
});
