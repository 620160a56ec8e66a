// Entry payloads quoted in etcd-messages.md §8.7 and etcd-data-dir.md §11 were written by a real
// etcd 3.4.23; the synthetic ones below are marked as such and cover shapes a small WAL lacks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesJson, describeEntry, parseJsonBigSafe, summarizeEntry } from '../../../src/format/payload/payload.js';
import { entryPayloadJson } from '../../../src/format/payload/payload-schema.js';
import type { EntryPayloadJson } from '../../../src/format/payload/payload-schema.js';
import type { Entry } from '../../../src/format/proto/messages.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
function normal(data: string): Entry {
  return { type: 0, term: 2n, index: 5n, data: hex(data) };
}
/** describeEntry, and check the result against the published zod schema. */
function describe1(e: Entry, opts = {}): EntryPayloadJson {
  const d = describeEntry(e, opts);
  entryPayloadJson.parse(d);
  return d;
}
const HEADER_05 = 'a2060b 0885fed6e6a2c2a8d89301'; // header{ID 0x93b0a2122cd5bf05}

describe('InternalRaftRequest payloads from a real 3.4.23 WAL (spec §8.7)', () => {
  it('index 5: put foo=bar with the header request ID', () => {
    const e = normal(`220a 0a03666f6f 1203626172 ${HEADER_05}`);
    assert.deepEqual(describe1(e), {
      kind: 'v3',
      requestId: (0x93b0a2122cd5bf05n).toString(),
      requestIdHex: '93b0a2122cd5bf05',
      request: {
        op: 'put',
        key: { encoding: 'utf8', text: 'foo', bytes: 3 },
        value: { encoding: 'utf8', text: 'bar', bytes: 3 },
      },
    });
    assert.equal(summarizeEntry(e), 'PUT foo (3 B)');
  });

  it('index 7: lease grant, TTL 600 and the lease ID', () => {
    const e = normal(`420d 08d804 1087fed6e6a2c2a8d813 ${HEADER_05}`);
    const d = describe1(e);
    assert.ok(d.kind === 'v3');
    assert.deepEqual(d.request, {
      op: 'lease_grant',
      ttl: '600',
      id: (0x13b0a2122cd5bf07n).toString(),
      idHex: '13b0a2122cd5bf07',
    });
    assert.equal(summarizeEntry(e), 'LEASE_GRANT id=13b0a2122cd5bf07 ttl=600');
  });

  it('index 9, 11, 16: delete_range, compaction, lease_revoke', () => {
    assert.equal(summarizeEntry(normal(`2a05 0a03666f6f ${HEADER_05}`)), 'DELETE_RANGE foo');
    assert.equal(summarizeEntry(normal(`3a02 0803 ${HEADER_05}`)), 'COMPACTION rev=3');
    const revoke = describe1(normal(`4a0a 0887fed6e6a2c2a8d813 ${HEADER_05}`));
    assert.ok(revoke.kind === 'v3' && revoke.request.op === 'lease_revoke');
    assert.equal(revoke.request.idHex, '13b0a2122cd5bf07');
  });

  it('index 10: txn with a value compare, two success ops and one failure op', () => {
    const txn =
      '3236' +
      '0a0e 1003 1a046c6b6579 3a046c76616c' + // compare{target VALUE, key lkey, value lval}
      '120c 120a 0a03746b31 1203747631' + // success put tk1=tv1
      '1208 1a06 0a046c6b6579' + // success delete lkey
      '1a0c 120a 0a03746b32 1203747632'; // failure put tk2=tv2
    const e = normal(`${txn} ${HEADER_05}`);
    const d = describe1(e);
    assert.ok(d.kind === 'v3' && d.request.op === 'txn');
    assert.deepEqual(d.request.compare, [
      {
        result: 'EQUAL',
        target: 'VALUE',
        key: { encoding: 'utf8', text: 'lkey', bytes: 4 },
        value: { encoding: 'utf8', text: 'lval', bytes: 4 },
      },
    ]);
    assert.deepEqual(
      d.request.success.map((o) => o.op),
      ['put', 'delete_range'],
    );
    assert.deepEqual(d.request.failure[0], {
      op: 'put',
      key: { encoding: 'utf8', text: 'tk2', bytes: 3 },
      value: { encoding: 'utf8', text: 'tv2', bytes: 3 },
    });
    assert.equal(summarizeEntry(e), 'TXN 1 cmp, 2/1 ops');
  });

  it('index 12: 3.4 auth_user_add carries the plaintext password; the JSON masks it', () => {
    const e = normal(`${HEADER_05} e2440c 0a04726f6f74 12027077 1a00`);
    const d = describe1(e);
    assert.ok(d.kind === 'v3');
    assert.deepEqual(d.request, { op: 'auth_user_add', name: 'root', password: '<masked: 2 bytes>' });
    assert.doesNotMatch(JSON.stringify(d), /"pw"/);
    assert.equal(summarizeEntry(e), 'AUTH_USER_ADD root');
  });
});

describe('other entry kinds', () => {
  it('an empty normal entry is the leader no-op', () => {
    assert.deepEqual(describe1({ type: 0, term: 2n, index: 2n }), { kind: 'noop' });
    assert.equal(summarizeEntry({ type: 0, term: 2n, index: 2n, data: new Uint8Array(0) }), 'NOOP');
  });

  it('conf change of the fresh 3.4.23 member (§11.1): member ID in the context stays exact', () => {
    const ctx = '{"id":12428976124636271536,"peerURLs":["http://127.0.0.1:23791"],"name":"default"}';
    const data = hex(`0800 1000 18b0a786f6f0fda5beac01 2252${Buffer.from(ctx).toString('hex')}`);
    const e: Entry = { type: 1, term: 1n, index: 1n, data };
    assert.deepEqual(describe1(e), {
      kind: 'conf_change',
      changeId: '0',
      changeIdHex: '0000000000000000',
      type: 'ConfChangeAddNode',
      nodeId: '12428976124636271536',
      nodeIdHex: 'ac7c97ef0ec193b0',
      context: {
        encoding: 'json',
        json: { id: '12428976124636271536', peerURLs: ['http://127.0.0.1:23791'], name: 'default' },
        bytes: 82,
      },
    });
    assert.equal(summarizeEntry(e), 'CONF_CHANGE AddNode ac7c97ef0ec193b0');
  });

  it('synthetic: bare v2 Request laid out like etcd writes it (field 5 Dir is a varint)', () => {
    const path = Buffer.from('/0/version').toString('hex');
    const e = normal(
      `0801 1203505554 1a0a${path} 2205332e352e30 2800 3200 3800 4800 5000 5800 6000 6800 7000 7800 800100`,
    );
    const d = describe1(e);
    assert.ok(d.kind === 'v2');
    assert.deepEqual(d.request, {
      id: '1',
      idHex: '0000000000000001',
      method: 'PUT',
      path: '/0/version',
      val: { encoding: 'utf8', text: '3.5.0', bytes: 5 },
    });
    assert.equal(summarizeEntry(e), 'V2 PUT /0/version = 3.5.0');
  });

  it('synthetic: IRR.ID wins over header.ID; header username and auth revision are kept', () => {
    const e = normal('0807 220a 0a03666f6f 1203626172 a2060a 0809 1204726f6f74 1803');
    const d = describe1(e);
    assert.ok(d.kind === 'v3');
    assert.deepEqual([d.requestId, d.requestIdHex, d.username, d.authRevision], ['7', '0000000000000007', 'root', '3']);
  });

  it('undecodable data and unknown entry types are data, not exceptions', () => {
    const bad = describe1(normal('ffff'));
    assert.ok(bad.kind === 'undecodable');
    assert.match(bad.error, /^not an InternalRaftRequest \(.+\) nor a v2 Request \(.+\)$/);
    assert.equal(bad.dataBase64, '//8=');
    assert.match(summarizeEntry(normal('ffff')), /^UNDECODABLE \(2 bytes\): /);
    const unknown = describe1({ type: 7, term: 1n, index: 1n, data: hex('00') });
    assert.deepEqual(unknown, { kind: 'undecodable', error: 'unknown entry type 7', dataBase64: 'AA==' });
    const badCc = describe1({ type: 1, term: 1n, index: 1n, data: hex('0a') });
    assert.ok(badCc.kind === 'undecodable' && /raftpb\.ConfChange/.test(badCc.error));
  });

  it('synthetic: conf change v2 and a nested txn', () => {
    const v2 = describe1({ type: 2, term: 1n, index: 9n, data: hex('0801 1204 0803 1005') });
    assert.deepEqual(v2, {
      kind: 'conf_change_v2',
      transition: 'JointImplicit',
      changes: [{ type: 'ConfChangeAddLearnerNode', nodeId: '5', nodeIdHex: '0000000000000005' }],
    });
    assert.equal(summarizeEntry({ type: 2, term: 1n, index: 9n, data: hex('') }), 'CONF_CHANGE_V2 Auto (leave joint)');
    // txn{success[txn{success[delete_range{key "a", range_end "\0"}]}]}
    const nested = describe1(normal('320e 120c 220a 1208 1a06 0a0161 120100'));
    assert.ok(nested.kind === 'v3' && nested.request.op === 'txn');
    const inner = nested.request.success[0];
    assert.ok(inner?.op === 'txn');
    assert.deepEqual(inner.success[0], {
      op: 'delete_range',
      key: { encoding: 'utf8', text: 'a', bytes: 1 },
      rangeEnd: { encoding: 'utf8', text: '\0', bytes: 1 },
    });
    assert.equal(summarizeEntry(normal('2a06 0a0161 120100')), 'DELETE_RANGE a .. (end)');
  });
});

describe('bytes rendering', () => {
  it('says utf8 or base64, and never decodes invalid UTF-8 lossily', () => {
    assert.deepEqual(bytesJson(Buffer.from('héllo')), { encoding: 'utf8', text: 'héllo', bytes: 6 });
    assert.deepEqual(bytesJson(Uint8Array.of(0xff, 0xfe, 0x00)), { encoding: 'base64', base64: '//4A', bytes: 3 });
  });

  it('maxValueBytes truncates at a character boundary and keeps the full length', () => {
    assert.deepEqual(bytesJson(Buffer.from('aé€'), 2), { encoding: 'utf8', text: 'a', bytes: 6, truncated: true });
    assert.deepEqual(bytesJson(Uint8Array.of(0xff, 1, 2, 3), 2), {
      encoding: 'base64',
      base64: '/wE=',
      bytes: 4,
      truncated: true,
    });
    const big = Buffer.alloc(1229, 'x').toString('hex');
    const e = normal(`22d309 0a0161 12cd09${big}`);
    const d = describe1(e, { maxValueBytes: 16 });
    assert.ok(d.kind === 'v3' && d.request.op === 'put');
    assert.deepEqual(d.request.value, { encoding: 'utf8', text: 'x'.repeat(16), bytes: 1229, truncated: true });
    assert.equal(summarizeEntry(e), 'PUT a (1.2 KB)');
  });

  it('parseJsonBigSafe quotes only integers beyond 2^53 outside strings', () => {
    assert.deepEqual(parseJsonBigSafe('{"id":12428976124636271536,"n":5,"s":"12428976124636271536 x","f":1.5,"neg":-9007199254740993}'), {
      id: '12428976124636271536',
      n: 5,
      s: '12428976124636271536 x',
      f: 1.5,
      neg: '-9007199254740993',
    });
  });
});

describe('requests a small 3.4/3.5 WAL does not contain (synthetic bytes, field numbers from the spec)', () => {
  const s = (h: string) => Buffer.from(h).toString('hex');
  const cases: [string, string, string][] = [
    // [IRR bytes, summary, what]
    [`a2510 7 0a05${s('3.5.0')}`, 'CLUSTER_VERSION_SET 3.5.0', 'membershippb.ClusterVersionSetRequest (1300)'],
    [`aa51 11 0805 120d 0a07${s('default')} 1202${s('u1')}`, 'CLUSTER_MEMBER_ATTR_SET 0000000000000005 name=default', 'ClusterMemberAttrSetRequest (1301)'],
    [`b251 09 0801 1205${s('3.4.0')}`, 'DOWNGRADE_INFO_SET enabled=true ver=3.4.0', 'DowngradeInfoSetRequest (1302)'],
    ['5206 0801 1005 1801', 'ALARM ACTIVATE NOSPACE member=0000000000000005', 'alarm'],
    ['5a07 0a05 0807 10ac02', 'LEASE_CHECKPOINT 0000000000000007 remaining=300', 'lease_checkpoint'],
    [`a23f 0e 0a04${s('root')} 1a06${s('tok123')}`, 'AUTHENTICATE root', 'authenticate (1012)'],
    ['aa3f 00', 'AUTH_STATUS', 'auth_status (1013)'],
    [`1a0a 0a01${s('a')} 1201${s('b')} 1801 4001`, 'RANGE a .. b', 'range'],
  ];
  for (const [h, summary, what] of cases) {
    it(what, () => {
      const e = normal(h);
      const d = describe1(e);
      assert.equal(d.kind, 'v3', JSON.stringify(d));
      assert.equal(summarizeEntry(e), summary);
    });
  }
  it('the authenticate token is masked', () => {
    const d = describe1(normal(`a23f 0e 0a04${s('root')} 1a06${s('tok123')}`));
    assert.ok(d.kind === 'v3' && d.request.op === 'authenticate');
    assert.equal(d.request.simpleToken, '<masked: 6 bytes>');
    assert.doesNotMatch(JSON.stringify(d), /tok123/);
  });
});

describe('robustness on real payload bytes', () => {
  it('every flipped bit and every truncation of the spec payloads gives a schema-valid result', () => {
    const payloads = [
      `220a 0a03666f6f 1203626172 ${HEADER_05}`,
      `420d 08d804 1087fed6e6a2c2a8d813 ${HEADER_05}`,
      `3236 0a0e 1003 1a046c6b6579 3a046c76616c 120c 120a 0a03746b31 1203747631 1208 1a06 0a046c6b6579 1a0c 120a 0a03746b32 1203747632`,
      `${HEADER_05} e2440c 0a04726f6f74 12027077 1a00`,
    ].map(hex);
    let undecodable = 0;
    for (const p of payloads) {
      const variants: Uint8Array[] = [];
      for (let n = 1; n < p.length; n++) variants.push(p.subarray(0, n));
      for (let i = 0; i < p.length * 8; i++) {
        const b = Uint8Array.from(p);
        b[i >> 3]! ^= 1 << (i & 7);
        variants.push(b);
      }
      for (const v of variants) {
        const d = describe1({ type: 0, term: 1n, index: 1n, data: v });
        if (d.kind === 'undecodable') undecodable++;
        else assert.ok(summarizeEntry({ type: 0, term: 1n, index: 1n, data: v }).length > 0);
      }
    }
    assert.ok(undecodable > 0);
    // the 3.4 plaintext password never survives a mutation either
    for (let i = 0; i < 8 * 20; i++) {
      const b = hex(`${HEADER_05} e2440c 0a04726f6f74 12027077 1a00`);
      b[i >> 3]! ^= 1 << (i & 7);
      const d = describeEntry({ type: 0, term: 1n, index: 1n, data: b });
      if (d.kind !== 'undecodable') assert.doesNotMatch(JSON.stringify(d), /"pw"/);
    }
  });
});

describe('oneof members on the wire are kept even when zero', () => {
  it('synthetic: Compare.version = 0 (written as 20 00) is a create-if-absent guard', () => {
    const d = describe1(normal('3211 0a05 1a016b 2000 1208 1206 0a016b 120176'));
    assert.ok(d.kind === 'v3' && d.request.op === 'txn');
    assert.deepEqual(d.request.compare, [
      { result: 'EQUAL', target: 'VERSION', key: { encoding: 'utf8', text: 'k', bytes: 1 }, version: '0' },
    ]);
  });
});
