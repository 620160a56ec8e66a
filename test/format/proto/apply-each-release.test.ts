// etcdAppliesEntryDataInEachRelease reads an entry's data once for 3.5, 3.6 and 3.7 when the bytes
// give the releases no reason to differ, and falls back to each release's own reading otherwise.
// It must answer exactly as etcdAppliesEntryData does release by release (outcome, failure and the
// decoded message): here on every EntryNormal of real fixtures, on crafted bytes that take each
// fallback, and on seeded corruptions of them (no Go needed; gogo-diff.test.ts checks the same
// function against etcd's own code).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFixture } from '../../support/fixtures.js';
import { ReadWindow, bytesSource } from '../../../src/format/bytes.js';
import { decodeSegment } from '../../../src/format/wal/decoder.js';
import { decodeEntry } from '../../../src/format/proto/messages.js';
import { type FieldSelection, type ProtoObject, etcdAppliesEntryData, etcdAppliesEntryDataInEachRelease, fieldSelection } from '../../../src/format/proto/unmarshal.js';
import { RELEASES, fieldsOf, specOf } from '../../../src/format/proto/schema.js';
import { ledgerFields } from '../../../src/inspect/reconcile.js';

const IRR = 'etcdserverpb.InternalRaftRequest';
// What apply-check asks for alone, and with the WAL/db reconciliation listening.
const JUDGED = fieldSelection({ [IRR]: ['id', 'header', 'v2', 'clusterVersionSet'] });
const RECONCILED = fieldSelection({ ...ledgerFields().fields, [IRR]: [...ledgerFields().fields[IRR]!, ...JUDGED.fields[IRR]!] });

/** A decoded message of `typeName` cut down to what `sel` selects, in it and in every message nested in it. */
function cutMessage(o: ProtoObject, typeName: string, sel: FieldSelection): ProtoObject {
  const spec = specOf(typeName);
  const keep = sel.fields[typeName];
  const out: ProtoObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (keep && !keep.includes(k)) continue;
    const sub = fieldsOf(spec).find((f) => f.key === k)?.sub;
    if (sub === undefined) out[k] = v;
    else out[k] = Array.isArray(v) ? v.map((m) => cutMessage(m as ProtoObject, sub.name, sel)) : cutMessage(v as ProtoObject, sub.name, sel);
  }
  return out;
}

/** The outcome with the request cut down to what `sel` selects (what `select` promises). */
function cut<T extends { as: string; request?: ProtoObject }>(o: T, sel: FieldSelection): T {
  if (!('request' in o) || o.request === undefined) return o;
  return { ...o, request: cutMessage(o.request, o.as === 'v2-request' ? 'etcdserverpb.Request' : IRR, sel) };
}

function same(data: Uint8Array, what: string): void {
  const each = etcdAppliesEntryDataInEachRelease(data);
  const parts = [JUDGED, RECONCILED].map((select) => ({ select, part: etcdAppliesEntryDataInEachRelease(data, { select }) }));
  for (const r of RELEASES) {
    const alone = etcdAppliesEntryData(data, { release: r });
    const at = `${what} (${r}): ${Buffer.from(data).toString('hex').slice(0, 200)}`;
    assert.deepStrictEqual(each[r], alone, at);
    // with `select`, the same answer, the request holding at least the fields asked for, exactly
    for (const { select, part } of parts) assert.deepStrictEqual(cut(part[r], select), cut(alone, select), `select: ${at}`);
  }
}

async function fixtureEntries(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const name of ['v34-workload', 'v35-workload', 'v35-k8s', 'v37-workload', 'v35-then-v36-then-v37']) {
    const fx = await loadFixture(name);
    try {
      const walDir = join(fx.dir, 'member/wal');
      for (const seg of readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort()) {
        const bytes = readFileSync(join(walDir, seg));
        for (const ev of decodeSegment(new ReadWindow(bytesSource(bytes)), { crc: 0 })) {
          if (ev.kind !== 'record' || ev.record.type !== 2 || !ev.record.data) continue;
          const e = decodeEntry(ev.record.data);
          if (e.type === 0 && e.data?.length) out.push(Uint8Array.from(e.data));
        }
      }
    } finally {
      fx.cleanup();
    }
  }
  return out;
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// IRR {header {ID 1}, put {key "k", value "v"}} and variations (field numbers from raft_internal.proto / rpc.proto)
const CRAFTED: [string, Uint8Array][] = [
  ['plain put', hex('a2 06 02 08 01  22 06 0a 01 6b 12 01 76')],
  ['v2 request in IRR field 2 (not in 3.7)', hex('08 05  12 08 1a 03 50 55 54 22 01 2f')],
  ['bare v2 Request', hex('08 05 1a 03 50 55 54 22 05 2f 30 2f 76 78')],
  ['unknown field 50', hex('a2 06 02 08 01  92 03 01 00')],
  ['field only 3.6 knows (9900)', hex('a2 06 02 08 01  e2 ea 04 00')],
  ['header twice (gogo merges, as protobuf-go)', hex('a2 06 02 08 01  a2 06 02 10 02')],
  ['oneof member twice: txn success request_put twice', hex('3a 0e 1a 0c 12 04 0a 01 6b 00 12 04 0a 01 6c 00')],
  ['username not UTF-8', hex('a2 06 05 08 01 12 01 ff')],
  ['10-byte varint', hex('08 ff ff ff ff ff ff ff ff ff 01')],
  ['10-byte varint, 10th byte 2', hex('08 ff ff ff ff ff ff ff ff ff 02')],
  // a put's lease that protobuf-go refuses, in a field apply-check alone does not build (skipped)
  ['10-byte varint, 10th byte 2, in a field not selected', hex('a2 06 02 08 01  22 0e 0a 01 6b 18 ff ff ff ff ff ff ff ff ff 02')],
  ['tag beyond 32 bits', hex('88 80 80 80 10 01')],
  ['packed repeated (checkpoints are messages: lease checkpoint ids)', hex('a2 06 02 08 01')],
  ['no header, no ID', hex('22 06 0a 01 6b 12 01 76')],
  ['wrong wire type for a known field', hex('a1 06 00 00 00 00 00 00 00 00')],
  ['truncated', hex('a2 06 05 08')],
];

function* corruptions(b: Uint8Array, seed: number): Generator<Uint8Array> {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let len = 0; len < Math.min(b.length, 40); len++) yield b.subarray(0, len);
  for (let k = 0; k < 40; k++) {
    const c = Uint8Array.from(b);
    const i = Math.floor(rnd() * c.length);
    if (k % 2) c[i] = c[i]! ^ (1 << Math.floor(rnd() * 8));
    else c[i] = Math.floor(rnd() * 256);
    yield c;
  }
}

describe('etcdAppliesEntryDataInEachRelease', () => {
  it('answers as etcdAppliesEntryData does for each release, on real entries and corruptions of them', async () => {
    const entries = await fixtureEntries();
    assert.ok(entries.length > 100, `only ${entries.length} entries`);
    let n = 0;
    entries.forEach((e, i) => {
      same(e, `fixture entry ${i}`);
      n++;
      if (i % 7 === 0) for (const c of corruptions(e, i)) {
        same(c, `corrupted fixture entry ${i}`);
        n++;
      }
    });
    assert.ok(n > 1000);
  });

  it('reads a real etcd request once for all three releases, a header ID in 10 varint bytes included', async () => {
    const entries = await fixtureEntries();
    const once = entries.filter((e) => {
      const each = etcdAppliesEntryDataInEachRelease(e);
      return each['3.5'] === each['3.6'];
    });
    // header {ID: a request ID from a real etcd 3.6 WAL, 10 varint bytes, the last 0x01}, put {k: v}
    const tenByteId = hex('a2 06 0b 08 81 90 fa ac ba c9 e8 a6 ee 01  22 06 0a 01 6b 12 01 76');
    const each = etcdAppliesEntryDataInEachRelease(tenByteId);
    assert.equal(each['3.5'], each['3.6'], 'read once');
    same(tenByteId, 'header ID in 10 bytes');
    assert.ok(once.length >= entries.length * 0.9, `${once.length} of ${entries.length} read once`);
  });

  it('on bytes that take each way back to the releases\' own readings', () => {
    for (const [what, b] of CRAFTED) {
      same(b, what);
      for (const c of corruptions(b, b.length)) same(c, `corrupted ${what}`);
    }
    same(new Uint8Array(0), 'empty');
  });
});
