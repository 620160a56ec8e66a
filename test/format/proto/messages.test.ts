// Bytes quoted here were written by a real etcd 3.4.23 (etcd-data-dir.md §11.1-§11.4): encoding
// our decoded values must give back exactly those bytes, and decoding must give the documented
// values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ProtoDecodeError,
  decodeConfChange,
  decodeEntry,
  decodeHardState,
  decodeMetadata,
  decodeRaftSnapshot,
  decodeSnapFile,
  decodeWalSnapshot,
} from '../../../src/format/proto/messages.js';
import {
  encodeConfChange,
  encodeEntry,
  encodeHardState,
  encodeMetadata,
  encodeRaftSnapshot,
  encodeSnapFile,
  encodeWalSnapshot,
} from '../../../src/format/proto/encode.js';
import { type WalRecord, decodeRecord as decodeRecordResult, encodeRecord } from '../../../src/format/wal/record.js';
import { decodeOk } from '../../support/proto.js';

/** walpb.Record, throwing like the other typed decoders. */
function decodeRecord(b: Uint8Array): WalRecord {
  const r = decodeRecordResult(b);
  if (!r.ok) throw new ProtoDecodeError(r.failure);
  return r.record;
}
const decodeMessage = decodeOk;

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

const MEMBER = 0xac7c97ef0ec193b0n;
const CLUSTER = 0x8cc9da78b36d1115n;
const MEMBER_VARINT = 'b0a786f6f0fda5beac01';
const MEMBER_CONTEXT = '{"id":12428976124636271536,"peerURLs":["http://127.0.0.1:23791"],"name":"default"}';

// walpb.Record bytes of the fresh 3.4.23 WAL in §11.1 and the write in §11.3 (frame payloads).
const REC = {
  crc0: '08041000',
  metadata: `080110fe8fbdbc06 1a16 08${MEMBER_VARINT} 1095a2b49b8bcff6e48c01`,
  snapshot0: '080510e7f08df406 1a04 08001000',
  confChangeEntry:
    `08021091b287b005 1a6b 0801 1001 1801 2263 0800 1000 18${MEMBER_VARINT} 2252` +
    Buffer.from(MEMBER_CONTEXT).toString('hex'),
  state1: '080310f997ad4a 1a06 080110001801',
  noop: '080210abe9ea9601 1a06 080010021802',
  state2: `08031095c3dcf50c 1a0f 0802 10${MEMBER_VARINT} 1802`,
  putFoo:
    '080210b29c94bd08 1a22 0800 1002 1805 221a 220a0a03666f6f120362617 2 a2060b0885fed6e6a2c2a8d89301',
  state5: `080310caa8a29605 1a0f 0802 10${MEMBER_VARINT} 1805`,
  // first two records of segment 0000000000000001-0000000000000054.wal (§11.2)
  crcSeg1: '080410e7fcadcb06',
  stateSeg1: `08031093fdacf50d 1a0f 0803 10${MEMBER_VARINT} 1853`,
};

describe('walpb.Record from a real 3.4.23 WAL', () => {
  it('decodes type, crc and data of every record and re-encodes them byte for byte', () => {
    const expected: Record<keyof typeof REC, [number, number]> = {
      crc0: [4, 0],
      metadata: [1, 0x678f47fe],
      snapshot0: [5, 0x6e837867],
      confChangeEntry: [2, 0x5601d911],
      state1: [3, 0x094b4bf9],
      noop: [2, 0x12dab4ab],
      state2: [3, 0xceb72195],
      putFoo: [2, 0x87a50e32],
      state5: [3, 0x52c8944a],
      crcSeg1: [4, 0x696b7e67],
      stateSeg1: [3, 0xdeab3e93],
    };
    for (const [name, h] of Object.entries(REC) as [keyof typeof REC, string][]) {
      const bytes = hex(h);
      const rec = decodeRecord(bytes);
      assert.deepEqual([rec.type, rec.crc], expected[name], name);
      assert.equal(rec.data === undefined, rec.type === 4, `${name}: only crc records lack data`);
      assert.equal(toHex(encodeRecord(rec)), toHex(bytes), name);
    }
  });

  it('metadata: NodeID and ClusterID as exact bigints, re-encoded identically', () => {
    const data = decodeRecord(hex(REC.metadata)).data!;
    assert.equal(data.length, 22);
    const md = decodeMetadata(data);
    assert.deepEqual(md, { nodeId: MEMBER, clusterId: CLUSTER });
    assert.equal(toHex(encodeMetadata(md)), toHex(data));
  });

  it('initial snapshot record {0,0} has no conf_state and encodes zeros (08 00 10 00)', () => {
    const data = decodeRecord(hex(REC.snapshot0)).data!;
    const s = decodeWalSnapshot(data);
    assert.deepEqual(s, { index: 0n, term: 0n });
    assert.equal(toHex(encodeWalSnapshot(s)), '08001000');
  });

  it('hard states: all three fields always written, zero vote included', () => {
    const cases: [keyof typeof REC, [bigint, bigint, bigint]][] = [
      ['state1', [1n, 0n, 1n]],
      ['state2', [2n, MEMBER, 2n]],
      ['state5', [2n, MEMBER, 5n]],
      ['stateSeg1', [3n, MEMBER, 83n]],
    ];
    for (const [name, [term, vote, commit]] of cases) {
      const data = decodeRecord(hex(REC[name])).data!;
      const hs = decodeHardState(data);
      assert.deepEqual(hs, { term, vote, commit }, name);
      assert.equal(toHex(encodeHardState(hs)), toHex(data), name);
    }
    assert.equal(toHex(encodeHardState({ term: 0n, vote: 0n, commit: 0n })), '080010001800');
  });

  it('entries: conf change, leader no-op (no data) and put foo=bar re-encode identically', () => {
    const cc = decodeEntry(decodeRecord(hex(REC.confChangeEntry)).data!);
    assert.deepEqual([cc.type, cc.term, cc.index], [1, 1n, 1n]);
    const change = decodeConfChange(cc.data!);
    assert.deepEqual(
      { ...change, context: Buffer.from(change.context!).toString() },
      { id: 0n, type: 0, nodeId: MEMBER, context: MEMBER_CONTEXT },
    );
    assert.equal(toHex(encodeConfChange(change)), toHex(cc.data!));

    const noop = decodeEntry(decodeRecord(hex(REC.noop)).data!);
    assert.deepEqual(noop, { type: 0, term: 2n, index: 2n });
    assert.equal(toHex(encodeEntry(noop)), '080010021802');

    const putData = decodeRecord(hex(REC.putFoo)).data!;
    const put = decodeEntry(putData);
    assert.deepEqual([put.type, put.term, put.index, put.data?.length], [0, 2n, 5n, 26]);
    assert.equal(toHex(encodeEntry(put)), toHex(putData));
    for (const name of ['confChangeEntry', 'noop'] as const) {
      const d = decodeRecord(hex(REC[name])).data!;
      assert.equal(toHex(encodeEntry(decodeEntry(d))), toHex(d), name);
    }
  });

  it('the put entry payload is an InternalRaftRequest with the documented request ID', () => {
    const irr = decodeMessage('etcdserverpb.InternalRaftRequest', decodeEntry(decodeRecord(hex(REC.putFoo)).data!).data!);
    const put = irr['put'] as { key: Uint8Array; value: Uint8Array };
    assert.equal(Buffer.from(put.key).toString(), 'foo');
    assert.equal(Buffer.from(put.value).toString(), 'bar');
    assert.deepEqual(irr['header'], { id: 0x93b0a2122cd5bf05n });
  });
});

describe('.snap file and raftpb.Snapshot', () => {
  it('decodes and re-encodes the metadata tail of a real 3.4.23 .snap (§11.4)', () => {
    const snapNoData = hex(`1213 0a0d 08${MEMBER_VARINT} 2800 100b 1802`);
    const s = decodeRaftSnapshot(snapNoData);
    assert.equal(s.data, undefined);
    assert.deepEqual(s.metadata, {
      confState: { voters: [MEMBER], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      index: 11n,
      term: 2n,
    });
    assert.equal(toHex(encodeRaftSnapshot(s)), toHex(snapNoData));
  });

  it('snappb.snapshot: crc and data, re-encoded with the data length prefix', () => {
    const body = hex('0a027b7d 1213 0a0d 0883fb94a3f4ca84f7c501 2800 1001 1801');
    const file = encodeSnapFile({ crc: 0x6f5a3f9a, data: body });
    assert.equal(toHex(file.subarray(0, 6)), '089aff e8fa06'.replace(/ /g, ''));
    const back = decodeSnapFile(file);
    assert.equal(back.crc, 0x6f5a3f9a);
    assert.equal(toHex(back.data!), toHex(body));
  });

  it('conf state with voters needing 10-byte varints, unpacked, auto_leave always written', () => {
    const cs = { voters: [0xc5ee125744653d83n, 1n], learners: [0xffffffffffffffffn], votersOutgoing: [], learnersNext: [], autoLeave: false };
    // walpb.Snapshot{index 0 (08 00), term 0 (10 00), conf_state (1a <len>) ...}
    const b = encodeWalSnapshot({ index: 0n, term: 0n, confState: cs }).subarray(6);
    assert.equal(toHex(b).slice(0, 2), '08');
    assert.ok(toHex(b).endsWith('2800'));
    assert.deepEqual(decodeWalSnapshot(encodeWalSnapshot({ index: 0n, term: 0n, confState: cs })).confState, cs);
    // a packed list (not written by etcd, accepted for robustness) decodes to the same values
    assert.deepEqual(decodeWalSnapshot(hex('0800 1000 1a06 0a020102 2801')).confState?.voters, [1n, 2n]);
  });
});

describe('round trips with extreme uint64 values', () => {
  it('entries, hard states, metadata and WAL snapshots', () => {
    const max = 0xffffffffffffffffn;
    for (const v of [0n, 1n, 127n, 128n, 2n ** 53n + 1n, 2n ** 63n, max]) {
      const e = { type: 2, term: v, index: max - v, data: Uint8Array.of(1, 2, 3) };
      assert.deepEqual(decodeEntry(encodeEntry(e)), e);
      const hs = { term: v, vote: max, commit: v };
      assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
      const md = { nodeId: v, clusterId: max - v };
      assert.deepEqual(decodeMetadata(encodeMetadata(md)), md);
      const ws = {
        index: v,
        term: 3n,
        confState: { voters: [v], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: true },
      };
      assert.deepEqual(decodeWalSnapshot(encodeWalSnapshot(ws)), ws);
    }
    const emptyData = { type: 0, term: 1n, index: 1n, data: new Uint8Array(0) };
    assert.equal(toHex(encodeEntry(emptyData)), '0800100118012200');
    assert.deepEqual(decodeRecord(encodeRecord({ type: 4, crc: 0xffffffff, data: undefined })), { type: 4, crc: 0xffffffff, data: undefined });
  });

  it('decoders accept fields in any order, skip unknown fields and read missing ones as zero', () => {
    assert.deepEqual(decodeEntry(hex('1805 1002 0800')), { type: 0, term: 2n, index: 5n });
    assert.deepEqual(decodeHardState(hex('')), { term: 0n, vote: 0n, commit: 0n });
    // unknown field 9 (varint), 10 (bytes), 11 (fixed64), 12 (fixed32) skipped
    assert.deepEqual(decodeHardState(hex('4801 5201ff 5900000000000000 00 6500000000 1807')), {
      term: 0n,
      vote: 0n,
      commit: 7n,
    });
  });
});

describe('malformed input throws ProtoDecodeError with etcd\'s error text and the field\'s offset', () => {
  function fails(fn: () => unknown, pattern: RegExp, offset: number): void {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof ProtoDecodeError, `not a ProtoDecodeError: ${String(e)}`);
      assert.match(e.message, pattern);
      assert.equal(e.offset, offset);
      return true;
    });
  }

  it('length prefix larger than the buffer is unexpected EOF; one overflowing int64 a negative length', () => {
    fails(() => decodeRecord(hex('0802 1000 1a7f 00')), /^unexpected EOF$/, 4);
    fails(() => decodeEntry(hex('0800 22ffffffffffffffff7f')), /^proto: negative length found during unmarshaling$/, 2);
    // an embedded message whose length runs past its parent's end
    fails(() => decodeWalSnapshot(hex('0800 1000 1a05 0801')), /^unexpected EOF$/, 4);
  });

  it('a varint cut mid-way, and one of 11 bytes', () => {
    fails(() => decodeRecord(hex('0802 10b29c')), /^unexpected EOF$/, 2);
    fails(() => decodeEntry(hex('0800 10')), /^unexpected EOF$/, 2);
    fails(() => decodeEntry(hex('0800 22')), /^unexpected EOF$/, 2);
    fails(() => decodeMetadata(hex('08ffffffffffffffffffff01')), /^proto: integer overflow$/, 0);
  });

  it('field 0, end-group, wrong wire type for a known field (wire types 6 and 7 included)', () => {
    fails(() => decodeRecord(hex('0802 1000 1e')), /^proto: wrong wireType = 6 for field Data$/, 4);
    fails(() => decodeRecord(hex('0802 1000 1f')), /^proto: wrong wireType = 7 for field Data$/, 4);
    fails(() => decodeHardState(hex('0001')), /^proto: HardState: illegal tag 0 \(wire type 0\)$/, 0);
    fails(() => decodeHardState(hex('0c')), /^proto: HardState: wiretype end group for non-group$/, 0);
    fails(() => decodeEntry(hex('0800 2001')), /^proto: wrong wireType = 0 for field Data$/, 2);
    fails(() => decodeEntry(hex('0a00')), /^proto: wrong wireType = 2 for field Type$/, 0);
    // an unknown field of wire type 6 goes through gogo's skip function, which says it its own way
    fails(() => decodeHardState(hex('2e')), /^proto: illegal wireType 6$/, 0);
  });

  it('nested errors name the inner message and keep absolute offsets', () => {
    // ConfState.auto_leave (a bool) written as bytes, inside walpb.Snapshot.conf_state
    assert.throws(
      () => decodeWalSnapshot(hex('1a05 0a0101 2a00')),
      (e: unknown) => e instanceof ProtoDecodeError && e.message === 'proto: wrong wireType = 2 for field AutoLeave' && e.messageType === 'raftpb.ConfState' && e.offset === 5,
    );
    // IRR.put (field 4) whose key (field 1) is a varint
    assert.throws(
      () => decodeMessage('etcdserverpb.InternalRaftRequest', hex('2202 0801')),
      /^Error: etcdserverpb.PutRequest: proto: wrong wireType = 0 for field Key at byte 2$/,
    );
  });

  it('every truncated prefix and every flipped bit of a real record decodes or throws ProtoDecodeError', () => {
    const full = hex(REC.putFoo);
    const decodeAll = (b: Uint8Array): void => {
      const rec = decodeRecord(b);
      if (rec.data !== undefined) {
        const e = decodeEntry(rec.data);
        if (e.data !== undefined) decodeMessage('etcdserverpb.InternalRaftRequest', e.data);
      }
    };
    let refused = 0;
    const attempt = (b: Uint8Array): void => {
      try {
        decodeAll(b);
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError || (e instanceof Error && /^Error: etcdserverpb\./.test(String(e))), `unexpected ${String(e)} for ${toHex(b)}`);
        refused++;
      }
    };
    for (let n = 0; n < full.length; n++) attempt(full.subarray(0, n));
    for (let i = 0; i < full.length * 8; i++) {
      const b = Uint8Array.from(full);
      b[i >> 3]! ^= 1 << (i & 7);
      attempt(b);
    }
    assert.ok(refused > full.length, `only ${refused} refusals`);
  });
});
