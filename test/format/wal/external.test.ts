// etcd's own golden WAL bytes, read in place: ../shared/external/etcd/TestNew.wal is
// etcd-io/etcd server/storage/wal/testdata/TestNew.wal (commit c34dc7ee), the first bytes of a
// brand-new segment as etcd's TestNew pins them: a crc record, a metadata record whose payload is
// the opaque test string "somedata" (the wal package does not interpret metadata; etcd's server
// stores an etcdserverpb.Metadata there), and the initial snapshot record {index 0, term 0}.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bytesSource } from '../../../src/format/bytes.js';
import { type WalkRecord, walkWal } from '../../../src/format/wal/walk.js';
import { RecordEncoder } from '../../../src/format/wal/encoder.js';
import { externalFile } from '../../support/external.js';

describe("etcd's TestNew.wal golden file", () => {
  it('decodes as crc, metadata, snapshot{0,0} with a valid CRC chain, ending exactly at its last record', (t) => {
    const path = externalFile(t, 'etcd/TestNew.wal');
    if (!path) return;
    const bytes = readFileSync(path);
    const recs: WalkRecord[] = [];
    let end;
    for (const ev of walkWal([{ name: 'TestNew.wal', source: bytesSource(bytes) }])) {
      if (ev.kind === 'record') recs.push(ev);
      if (ev.kind === 'segment-end') end = ev.end;
    }
    assert.deepEqual(end, { kind: 'eof', offset: 72 });
    assert.deepEqual(recs.map((r) => r.offset), [0, 16, 48]);
    assert.equal(recs[0]!.payload.type, 'crc');
    assert.equal(recs[0]!.crc, 0);
    // "somedata" is not an etcdserverpb.Metadata: the walker says so instead of guessing.
    assert.equal(recs[1]!.payload.type, 'undecodable');
    const snap = recs[2]!.payload;
    assert.equal(snap.type, 'snapshot');
    if (snap.type === 'snapshot') assert.deepEqual([snap.snapshot.index, snap.snapshot.term], [0n, 0n]);
  });

  it('our encoder writes the same 72 bytes', (t) => {
    const path = externalFile(t, 'etcd/TestNew.wal');
    if (!path) return;
    const bytes = readFileSync(path);
    const enc = new RecordEncoder(0);
    const out = Buffer.concat([enc.crcRecord(), enc.record(1, new TextEncoder().encode('somedata')), enc.record(5, Uint8Array.from([0x08, 0x00, 0x10, 0x00]))]);
    assert.deepEqual(out, bytes);
  });
});

