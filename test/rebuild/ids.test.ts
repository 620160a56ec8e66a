import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { bootstrapMembers, clusterId, memberId, parseInitialCluster, parsePeerUrl } from '../../src/rebuild/ids.js';
import { sha1 } from '../../src/rebuild/sha1.js';

const hex = (v: bigint) => v.toString(16).padStart(16, '0');

test('member and cluster IDs: the worked examples of etcd-restore.md §7.2', () => {
  const a = memberId(['http://127.0.0.1:23791'], 'etcd-cluster', sha1);
  assert.equal(hex(a), 'ac7c97ef0ec193b0');
  assert.equal(hex(clusterId([a], sha1)), '8cc9da78b36d1115');
  const b = memberId(['http://127.0.0.1:23795'], 'tok', sha1);
  assert.equal(hex(b), 'c5ee125744653d83');
  assert.equal(hex(clusterId([b], sha1)), '8d244b9e714454e8');
});

test('three members, token tk, one with two URLs given out of order (§7.2)', () => {
  const boot = bootstrapMembers(
    {
      name: 'b',
      initialCluster: 'a=http://10.0.0.1:2380,c=http://10.0.0.3:2390,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380',
      initialClusterToken: 'tk',
      initialAdvertisePeerUrls: 'http://10.0.0.2:2380',
    },
    sha1,
  );
  assert.deepEqual(
    boot.members.map((m) => [m.name, hex(m.id), m.peerUrls]),
    [
      ['a', '1c3a498a2cce624b', ['http://10.0.0.1:2380']],
      ['c', '1eb430b3c5fe15c2', ['http://10.0.0.3:2380', 'http://10.0.0.3:2390']],
      ['b', '42a696824ae9fd4c', ['http://10.0.0.2:2380']],
    ],
  );
  assert.equal(hex(boot.clusterId), 'bd698003ebc048e1');
  assert.equal(boot.local.name, 'b');
  // The name is not hashed: renaming keeps the ID.
  assert.equal(memberId(['http://10.0.0.1:2380'], 'tk', sha1), boot.members[0]?.id);
});

test('--initial-cluster parsing: repeated names, whitespace, empty items', () => {
  const ic = parseInitialCluster('x=http://h:2 ,,x= http://h:1');
  assert.deepEqual([...ic], [['x', ['http://h:1', 'http://h:2']]]);
  assert.equal(parsePeerUrl('HTTP://[::1]:2380'), 'http://[::1]:2380');
  assert.equal(parsePeerUrl('unix://sock:1'), 'unix://sock:1');
});

// Every text below was printed by etcdutl 3.5.30 and etcdctl 3.4.23 for the same flags.
const refusals: [string, string, string, string][] = [
  ['x', 'a=http://127.0.0.1:1', 'http://127.0.0.1:1', `couldn't find local name "x" in the initial cluster configuration`],
  ['a', 'a=http://127.0.0.1:1', 'http://127.0.0.1:2', '--initial-cluster has a=http://127.0.0.1:1 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2 (resolved urls: "http://127.0.0.1:2" != "http://127.0.0.1:1")'],
  ['a', 'a=http://127.0.0.1:1,a=http://127.0.0.1:3', 'http://127.0.0.1:1', '--initial-cluster has a=http://127.0.0.1:3 but missing from --initial-advertise-peer-urls=http://127.0.0.1:1 (len(["http://127.0.0.1:1"]) != len(["http://127.0.0.1:1" "http://127.0.0.1:3"]))'],
  ['a', 'a=http://127.0.0.1:1', 'http://127.0.0.1:1,http://127.0.0.1:3', '--initial-advertise-peer-urls has http://127.0.0.1:3 but missing from --initial-cluster=a=http://127.0.0.1:1,a=http://127.0.0.1:3'],
  ['a', 'a=http://127.0.0.1:1,b=http://127.0.0.1:1', 'http://127.0.0.1:1', 'initial cluster a=http://127.0.0.1:1,b=http://127.0.0.1:1 has duplicate url'],
  ['a', 'a=http://127.0.0.1:1/x', 'http://127.0.0.1:1', 'URL must not contain a path: http://127.0.0.1:1/x'],
  ['a', 'a=ftp://127.0.0.1:1', 'http://127.0.0.1:1', 'URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1'],
  ['a', 'a=http://127.0.0.1', 'http://127.0.0.1:1', 'URL address does not have the form "host:port": http://127.0.0.1'],
  ['a', 'a=http://127.0.0.1:1', 'http://127.0.0.1', 'URL address does not have the form "host:port": http://127.0.0.1'],
];

for (const [name, initialCluster, advertise, message] of refusals) {
  test(`refused as etcd refuses it: ${message.slice(0, 60)}`, () => {
    assert.throws(
      () => bootstrapMembers({ name, initialCluster, initialClusterToken: 'etcd-cluster', initialAdvertisePeerUrls: advertise }, sha1),
      (e: unknown) => e instanceof UsageError && e.message === message,
    );
  });
}
