import { test } from 'node:test';
import assert from 'node:assert/strict';
import CRC32C from 'crc-32/crc32c.js';
import { bytesSource } from '../../src/format/bytes.js';
import { decodeConfChange, decodeRaftSnapshot, decodeSnapFile } from '../../src/format/proto/messages.js';
import { checkSnapFile } from '../../src/format/snap/snap.js';
import { walkWal } from '../../src/format/wal/walk.js';
import type { Payload } from '../../src/format/wal/walk.js';
import { restoreFileNames, restoreSnapFile, restoreWalRecords } from '../../src/rebuild/wal.js';
import { memberJson, restoreV2StoreJson } from '../../src/rebuild/v2store.js';

const r1 = { id: 0xc5ee125744653d83n, name: 'r1', peerUrls: ['http://127.0.0.1:23795'] };
const r1Cluster = 0x8d244b9e714454e8n;

// etcd-restore.md §7.4: the first 0x118 bytes of the segment etcdutl 3.5.30 wrote (the rest is zeros).
const SPEC_WAL_35 = `
0400 0000 0000 0084 0804 1000 0000 0000 2000 0000 0000 0000 0801 10ee bfbf f805
1a16 0883 fb94 a3f4 ca84 f7c5 0110 e8a9 918a e7f3 9292 8d01 0d00 0000 0000 0083
0805 10d1 ada8 2e1a 0408 0010 0000 0000 7000 0000 0000 0000 0802 1092 f1b1 b005
1a66 0801 1001 1801 225e 0800 1000 1883 fb94 a3f4 ca84 f7c5 0122 4d7b 2269 6422
3a31 3432 3632 3335 3732 3335 3934 3738 3739 3831 312c 2270 6565 7255 524c 7322
3a5b 2268 7474 703a 2f2f 3132 372e 302e 302e 313a 3233 3739 3522 5d2c 226e 616d
6522 3a22 7231 227d 1900 0000 0000 0087 0803 108d a9dd 950b 1a0f 0801 1083 fb94
a3f4 ca84 f7c5 0118 0100 0000 0000 0000 1d00 0000 0000 0083 0805 10ca b881 eb05
1a13 0801 1001 1a0d 0883 fb94 a3f4 ca84 f7c5 0128 0000 0000 0000 0000 0000 0000`;
const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const concat = (xs: Uint8Array[]) => Buffer.concat(xs.map((x) => Buffer.from(x)));

test('3.5 restore WAL of r1 is byte-identical to etcdutl 3.5.30 (spec §7.4)', () => {
  const wal = concat(restoreWalRecords({ members: [r1], localId: r1.id, clusterId: r1Cluster, target: '3.5' }));
  const spec = fromHex(SPEC_WAL_35);
  assert.equal(wal.length, 0x118); // the last record (29 bytes + 3 padding) ends at 0x118, zeros follow
  assert.deepEqual(wal, spec.subarray(0, wal.length));
  assert.ok(spec.subarray(wal.length).every((b) => b === 0));
});

test('3.4 restore WAL: identical up to 0xf0, then snapshot {1,1} without conf_state (spec §7.4)', () => {
  const wal = concat(restoreWalRecords({ members: [r1], localId: r1.id, clusterId: r1Cluster, target: '3.4' }));
  assert.deepEqual(wal.subarray(0, 0xf0), fromHex(SPEC_WAL_35).subarray(0, 0xf0));
  assert.deepEqual(wal.subarray(0xf0), fromHex('0e00000000000082 0805 1087 86e2 fc06 1a04 0801 1001 0000'));
});

test('the restore WAL decodes with our walker: metadata, conf changes, HardState, snapshot', () => {
  const members = [r1, { id: 0x1c3a498a2cce624bn, name: 'a', peerUrls: ['http://10.0.0.1:2380'] }];
  const recs = concat(restoreWalRecords({ members, localId: r1.id, clusterId: 7n, target: '3.5' }));
  const bytes = Buffer.concat([recs, Buffer.alloc(4096)]);
  const payloads: Payload[] = [];
  for (const ev of walkWal([{ name: '0000000000000000-0000000000000000.wal', source: bytesSource(bytes) }])) {
    if (ev.kind === 'record') payloads.push(ev.payload);
    if (ev.kind === 'segment-end') assert.equal(ev.end.kind, 'zero-length');
  }
  assert.deepEqual(payloads.map((p) => p.type), ['crc', 'metadata', 'snapshot', 'entry', 'entry', 'state', 'snapshot']);
  assert.deepEqual(payloads[1], { type: 'metadata', metadata: { nodeId: r1.id, clusterId: 7n } });
  const entries = payloads.flatMap((p) => (p.type === 'entry' ? [p.entry] : []));
  assert.deepEqual(entries.map((e) => [e.index, e.term, e.type]), [[1n, 1n, 1], [2n, 1n, 1]]);
  // ascending ID order: a (1c3a...) before r1 (c5ee...)
  assert.equal(decodeConfChange(entries[0]?.data as Uint8Array).nodeId, 0x1c3a498a2cce624bn);
  assert.deepEqual(payloads[5], { type: 'state', state: { term: 1n, vote: 0x1c3a498a2cce624bn, commit: 2n } });
  const last = payloads[6];
  assert.ok(last?.type === 'snapshot');
  assert.deepEqual(last.snapshot.confState?.voters, [0x1c3a498a2cce624bn, r1.id]);
  assert.equal(last.snapshot.index, 2n);
});

test('v2 store JSON and .snap of r1 match the spec (6,459-byte JSON, 6,492-byte file, crc 0x6f5a3f9a)', () => {
  const json = restoreV2StoreJson([r1]);
  assert.equal(json.length, 6459);
  const head = '{"Root":{"Path":"/","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"0":{"Path":"/0","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"members":{"Path":"/0/members","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"c5ee125744653d83":{"Path":"/0/members/c5ee125744653d83","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"raftAttributes":{"Path":"/0/members/c5ee125744653d83/raftAttributes","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":"{\\"peerURLs\\":[\\"http://127.0.0.1:23795\\"]}","Children":null}}}}}}},"1":{"Path":"/1","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{}}}},"WatcherHub":{"EventHistory":{"Queue":{"Events":[{"action":"create","node":{"key":"/0/members/c5ee125744653d83/raftAttributes","value":"{\\"peerURLs\\":[\\"http://127.0.0.1:23795\\"]}","modifiedIndex":1,"createdIndex":1}},';
  const tail = '],"Size":1,"Front":0,"Back":1,"Capacity":1000},"StartIndex":1,"LastIndex":1}},"CurrentIndex":1,"Stats":{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":1,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0},"CurrentVersion":2}';
  assert.equal(json, head + Array(999).fill('null').join(',') + tail);

  const snap = restoreSnapFile([r1], '3.5');
  assert.equal(snap.length, 6492);
  assert.deepEqual(Buffer.from(snap.subarray(0, 14)), fromHex('089affe8fa06 12d332 0abb32 7b22'));
  assert.deepEqual(Buffer.from(snap.subarray(snap.length - 21)), fromHex('1213 0a0d 0883fb94a3f4ca84f7c501 2800 1001 1801'));
  assert.equal(checkSnapFile(snap).ok, true);
  const f = decodeSnapFile(snap);
  assert.equal(f.crc, CRC32C.buf(f.data as Uint8Array, 0) >>> 0);
  const rs = decodeRaftSnapshot(f.data as Uint8Array);
  assert.equal(rs.metadata.index, 1n);
  assert.equal(rs.metadata.term, 1n);
  assert.deepEqual(rs.metadata.confState.voters, [r1.id]);
  assert.deepEqual(restoreFileNames(1), { wal: '0000000000000000-0000000000000000.wal', snap: '0000000000000001-0000000000000001.snap' });
});

test('member JSON escapes as Go does and omits an empty name', () => {
  assert.equal(memberJson({ id: 1n, name: 'a<b>&"', peerUrls: ['http://h:1'] }), '{"id":1,"peerURLs":["http://h:1"],"name":"a\\u003cb\\u003e\\u0026\\""}');
  assert.equal(memberJson({ id: 18446744073709551615n, name: '', peerUrls: [] }), '{"id":18446744073709551615,"peerURLs":[]}');
});
