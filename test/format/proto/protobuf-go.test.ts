// etcd 3.7 decodes with protobuf-go, not gogoproto: the same bytes, another outcome. Each case was
// run through etcd 3.5.36's generated Unmarshal and etcd 3.7.3's proto.Unmarshal / apply.Apply
// (tools/gogo-diff); gogo-diff.test.ts compares thousands more, where Go is at hand. These run
// everywhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkEtcdUnmarshal, decodeEtcdMessage, etcdAppliesEntryData, unmarshalFailureText } from '../../../src/format/proto/unmarshal.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const said = (type: string, h: string, release: '3.5' | '3.7'): string => {
  const r = checkEtcdUnmarshal(type, hex(h), { release });
  return r.ok ? 'ok' : unmarshalFailureText(r.failure);
};
const INVALID = 'proto: cannot parse invalid wire-format data';

describe('protobuf-go (etcd 3.7) against gogoproto (3.5/3.6) on the same bytes', () => {
  const cases: { what: string; type: string; hex: string; gogo: string; pgo: string; why?: string }[] = [
    { what: 'a known field with another wire type is skipped, not refused', type: 'mvccpb.KeyValue', hex: '0801', gogo: 'proto: wrong wireType = 0 for field Key', pgo: 'ok' },
    { what: 'invalid UTF-8 in a proto3 string (no "proto:" in the text)', type: 'etcdserverpb.RequestHeader', hex: '1201ff', gogo: 'ok', pgo: 'string field contains invalid UTF-8' },
    { what: 'a 10th varint byte above 1', type: 'mvccpb.KeyValue', hex: '10ffffffffffffffffff02', gogo: 'ok', pgo: INVALID, why: 'varint-overflow' },
    { what: 'field number 2^29 (gogo skips it as unknown)', type: 'mvccpb.KeyValue', hex: '808080801000', gogo: 'ok', pgo: INVALID, why: 'field-number' },
    { what: 'an unknown group closed by its own field number', type: 'mvccpb.KeyValue', hex: 'a301a401', gogo: 'ok', pgo: 'ok' },
    { what: "an unknown group closed by another field's end-group", type: 'mvccpb.KeyValue', hex: 'a301ac01', gogo: 'ok', pgo: INVALID, why: 'end-group' },
    { what: 'a packed varint running past the packed bytes', type: 'raftpb.ConfState', hex: '0a018001', gogo: 'ok', pgo: INVALID, why: 'truncated' },
    { what: 'a value cut short', type: 'mvccpb.KeyValue', hex: '0a05616263', gogo: 'unexpected EOF', pgo: INVALID, why: 'truncated' },
    { what: 'wire type 7', type: 'mvccpb.KeyValue', hex: '0f', gogo: 'proto: wrong wireType = 7 for field Key', pgo: INVALID, why: 'reserved-wire-type' },
    { what: 'field number 0', type: 'mvccpb.KeyValue', hex: '00', gogo: 'proto: KeyValue: illegal tag 0 (wire type 0)', pgo: INVALID, why: 'field-number' },
    { what: 'an enum value nobody defined (proto2, yet kept)', type: 'raftpb.Entry', hex: '0807', gogo: 'ok', pgo: 'ok' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      assert.equal(said(c.type, c.hex, '3.5'), c.gogo);
      assert.equal(said(c.type, c.hex, '3.7'), c.pgo);
      if (c.why) {
        const r = checkEtcdUnmarshal(c.type, hex(c.hex), { release: '3.7' });
        assert.ok(!r.ok && r.failure.kind === 'invalid-wire-format' && r.failure.why === c.why, JSON.stringify(r));
      }
    });
  }

  it('a oneof message read twice is merged by protobuf-go, replaced by gogo', () => {
    // RequestOp.request_range {key: "a"} then request_range {range_end: "b"}
    const b = hex('0a030a01610a031201' + '62');
    const range = (release: '3.5' | '3.7') => {
      const d = decodeEtcdMessage('etcdserverpb.RequestOp', b, { release });
      assert.ok(d.ok);
      const r = d.message['requestRange'] as Record<string, Uint8Array>;
      return Object.keys(r).sort();
    };
    assert.deepEqual(range('3.5'), ['rangeEnd']);
    assert.deepEqual(range('3.7'), ['key', 'rangeEnd']);
  });

  it('messages nest 10000 deep at most', () => {
    // TxnRequest.success (2) → RequestOp.request_txn (4) → TxnRequest ..., `levels` messages in all
    const nested = (levels: number): Uint8Array => {
      const size: number[] = [];
      size[levels - 1] = 0;
      const vlen = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : 3);
      for (let k = levels - 2; k >= 0; k--) size[k] = 1 + vlen(size[k + 1]!) + size[k + 1]!;
      const out: number[] = [];
      for (let k = 0; k < levels - 1; k++) {
        out.push(k % 2 === 0 ? 0x12 : 0x22);
        let n = size[k + 1]!;
        while (n >= 0x80) {
          out.push((n & 0x7f) | 0x80);
          n >>>= 7;
        }
        out.push(n);
      }
      return Uint8Array.from(out);
    };
    assert.equal(checkEtcdUnmarshal('etcdserverpb.TxnRequest', nested(10000), { release: '3.7' }).ok, true);
    const r = checkEtcdUnmarshal('etcdserverpb.TxnRequest', nested(10001), { release: '3.7' });
    assert.ok(!r.ok);
    assert.equal(unmarshalFailureText(r.failure), 'proto: exceeded maximum recursion depth');
  });
});

describe("etcd 3.7's apply: an InternalRaftRequest with an ID or a header, nothing else", () => {
  it('a bare v2 Request, applied by 3.5, panics 3.7', () => {
    const put = hex('080112035055541a0a2f302f76657273696f6e'); // {ID: 1, Method: PUT, Path: /0/version}
    assert.equal(etcdAppliesEntryData(put, { release: '3.5' }).as, 'v2-request');
    const o = etcdAppliesEntryData(put, { release: '3.7' });
    assert.deepEqual(o.as === 'panic' && o.panic, `unmarshal should never fail (${INVALID})`);
  });

  it('no ID and no header: Apply, could not find a header (an empty header is a header)', () => {
    for (const h of ['1a00', '12021a00']) {
      assert.equal(etcdAppliesEntryData(hex(h), { release: '3.5' }).as, 'internal-raft-request');
      const o = etcdAppliesEntryData(hex(h), { release: '3.7' });
      assert.deepEqual(o.as === 'no-header' && o.panic, 'Apply, could not find a header');
    }
    assert.equal(etcdAppliesEntryData(hex('a206001a00'), { release: '3.7' }).as, 'internal-raft-request');
    assert.equal(etcdAppliesEntryData(hex('08071a00'), { release: '3.7' }).as, 'internal-raft-request');
    assert.equal(etcdAppliesEntryData(new Uint8Array(0), { release: '3.7' }).as, 'noop');
  });
});
