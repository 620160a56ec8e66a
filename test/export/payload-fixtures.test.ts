// describeEntry on every entry of the committed real-etcd fixtures (fixtures/*.tar.gz, made by
// fixtures/generate.sh with etcd 3.4.23 / 3.5.30): nothing is undecodable, everything fits the
// schema, and replaying the JSON (puts, deletes, txns with their compares, lease revokes) gives
// exactly the keys, values, revisions and leases the fixture's manifest says etcd serves.
// Fixtures are unpacked with test/support's loadFixture and read with src/format/wal's walker.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeEntry, summarizeEntry } from '../../src/format/payload/payload.js';
import { entryPayloadJson } from '../../src/format/payload/payload-schema.js';
import type { BytesJson, CompareJson, EntryPayloadJson, KvOpJson } from '../../src/format/payload/payload-schema.js';
import { bytesSource } from '../../src/format/bytes.js';
import type { Entry } from '../../src/format/proto/messages.js';
import { endsCleanly, walkWal } from '../../src/format/wal/walk.js';
import { FIXTURES_DIR, listFixtures, loadFixture, readManifest } from '../support/fixtures.js';

/**
 * Every entry of the data dir's WAL, read with the project's WAL walker (CRC chain checked),
 * later entries replacing earlier ones with the same or a higher index (raft truncates the log
 * on conflict). Fails on any record or segment end that is not clean.
 */
function walEntries(dataDir: string): Entry[] {
  const walDir = join(dataDir, 'member', 'wal');
  const segments = readdirSync(walDir)
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .map((name) => ({ name, source: bytesSource(readFileSync(join(walDir, name))) }));
  const byIndex: Entry[] = [];
  let first: bigint | undefined;
  for (const ev of walkWal(segments)) {
    if (ev.kind === 'segment-end' && !endsCleanly(ev.end)) assert.fail(`segment ${ev.segment} ends in ${ev.end.kind}`);
    if (ev.kind !== 'record') continue;
    if (ev.payload.type === 'undecodable') assert.fail(`record at ${ev.offset}: ${ev.payload.error}`);
    if (ev.payload.type !== 'entry') continue;
    const e = ev.payload.entry;
    first ??= e.index;
    const at = Number(e.index - first);
    byIndex.length = Math.min(byIndex.length, at);
    byIndex[at] = e;
  }
  return byIndex;
}

// ---------------------------------------------------------------------------------------------
// A tiny model of etcd's mvcc store, driven only by the exported JSON.

function raw(b: BytesJson): Buffer {
  assert.equal(b.truncated, undefined);
  return b.encoding === 'utf8' ? Buffer.from(b.text, 'utf8') : Buffer.from(b.base64, 'base64');
}

interface Kv {
  value: Buffer;
  create: number;
  mod: number;
  version: number;
  lease: string | null;
}

class Store {
  rev = 1;
  readonly kvs = new Map<string, Kv>(); // key as latin1 string (byte-exact)
  #changed = false;

  #range(key: BytesJson, end: BytesJson | undefined): string[] {
    const k = raw(key).toString('latin1');
    if (end === undefined) return this.kvs.has(k) ? [k] : [];
    const e = raw(end).toString('latin1');
    return [...this.kvs.keys()].filter((x) => x >= k && (e === '\0' || x < e));
  }

  #compare(c: CompareJson): boolean {
    const keys = this.#range(c.key, c.rangeEnd);
    if (keys.length === 0) keys.push(''); // a missing key compares as zero (value: never true)
    return keys.every((k) => {
      const kv = this.kvs.get(k);
      let cmp: number;
      switch (c.target) {
        case 'VALUE':
          if (kv === undefined) return false;
          cmp = Buffer.compare(kv.value, raw(c.value!));
          break;
        case 'VERSION':
          cmp = Math.sign((kv?.version ?? 0) - Number(c.version));
          break;
        case 'CREATE':
          cmp = Math.sign((kv?.create ?? 0) - Number(c.createRevision));
          break;
        case 'MOD':
          cmp = Math.sign((kv?.mod ?? 0) - Number(c.modRevision));
          break;
        case 'LEASE':
          cmp = Math.sign(Number(BigInt(`0x${kv?.lease ?? '0'}`) - BigInt(c.lease!)));
          break;
        default:
          assert.fail(`compare target ${c.target}`);
      }
      return { EQUAL: cmp === 0, GREATER: cmp > 0, LESS: cmp < 0, NOT_EQUAL: cmp !== 0 }[c.result] ?? false;
    });
  }

  #apply(op: KvOpJson, rev: number): void {
    switch (op.op) {
      case 'put': {
        const k = raw(op.key).toString('latin1');
        const old = this.kvs.get(k);
        this.kvs.set(k, {
          value: raw(op.value),
          create: old?.create ?? rev,
          mod: rev,
          version: (old?.version ?? 0) + 1,
          lease: op.leaseHex ?? null,
        });
        this.#changed = true;
        return;
      }
      case 'delete_range':
        for (const k of this.#range(op.key, op.rangeEnd)) {
          this.kvs.delete(k);
          this.#changed = true;
        }
        return;
      case 'range':
        return;
      case 'txn':
        for (const o of op.compare.every((c) => this.#compare(c)) ? op.success : op.failure) this.#apply(o, rev);
    }
  }

  /** One raft entry; a write bumps the revision once, however many keys it touches. */
  entry(p: EntryPayloadJson): void {
    if (p.kind !== 'v3') return;
    const r = p.request;
    this.#changed = false;
    if (r.op === 'put' || r.op === 'delete_range' || r.op === 'txn') this.#apply(r, this.rev + 1);
    else if (r.op === 'lease_revoke') {
      for (const [k, kv] of this.kvs) {
        if (kv.lease === r.idHex) {
          this.kvs.delete(k);
          this.#changed = true;
        }
      }
    }
    if (this.#changed) this.rev++;
  }
}

// ---------------------------------------------------------------------------------------------

// Healthy fixtures whose WAL holds the whole history: replaying it must give the served keys.
const REPLAY = ['v34-workload', 'v35-workload', 'v35-crash', 'v34-then-v35', 'v35-snapshots', 'v35-segments', 'v35-fresh'];
// The torn tail etcd repaired lost WAL records whose writes the db already had; its WAL alone
// does not give the served keys, so it is only decoded, not replayed.
const DECODE_ONLY = ['v35-etcd-repaired'];

describe('entry payloads of the committed real-etcd fixtures', () => {
  for (const name of [...REPLAY, ...DECODE_ONLY]) {
    it(name, async (t) => {
      if (!existsSync(join(FIXTURES_DIR, `${name}.tar.gz`))) {
        if (process.env['CI'] === 'true') assert.fail(`fixture ${name} missing`);
        t.skip(`fixture ${name}.tar.gz not present (run fixtures/generate.sh ${name}): not run`);
        return;
      }
      const fx = await loadFixture(name);
      try {
        const m = fx.manifest;
        const entries = walEntries(fx.dir);
        assert.ok(entries.length > 0);

        // Every entry decodes, fits the schema and has a summary line.
        const kinds = new Map<string, number>();
        const payloads = entries.map((e) => {
          const p = describeEntry(e);
          entryPayloadJson.parse(p);
          assert.notEqual(p.kind, 'undecodable', `index ${e.index}: ${JSON.stringify(p)}`);
          const kind = p.kind === 'v3' ? `v3:${p.request.op}` : p.kind;
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          return p;
        });
        const lines = entries.map((e) => summarizeEntry(e));
        t.diagnostic(`${entries.length} entries: ${[...kinds].map(([k, n]) => `${k}=${n}`).join(' ')}`);

        // Bootstrap: the member's conf change, the leader no-op, then the bare v2 requests that
        // publish the member attributes and the cluster version. etcd names the member path with
        // types.ID.String(), hex without leading zeros.
        assert.ok(lines.some((l) => l === `CONF_CHANGE AddNode ${m.member_id}`), lines.slice(0, 4).join('\n'));
        assert.ok(lines.includes('NOOP'));
        const idPath = BigInt(`0x${m.member_id}`).toString(16);
        assert.ok(lines.some((l) => l.startsWith(`V2 PUT /0/members/${idPath}/attributes = {`)), lines.slice(0, 6).join('\n'));
        assert.ok(lines.includes(`V2 PUT /0/version = ${m.made_by[0]!.startsWith('3.4') ? '3.4.0' : '3.5.0'}`));

        if (DECODE_ONLY.includes(name)) return;
        const store = new Store();
        for (const p of payloads) store.entry(p);
        assert.equal(store.rev, m.last_revision, 'revision after replay');
        const want = m.keys.filter((k) => k.present);
        assert.deepEqual(
          [...store.kvs.keys()].map((k) => Buffer.from(k, 'latin1').toString('utf8')).sort(),
          want.map((k) => k.key).sort(),
        );
        for (const k of want) {
          const kv = store.kvs.get(Buffer.from(k.key, 'utf8').toString('latin1'))!;
          if (k.value !== undefined) assert.equal(kv.value.toString('utf8'), k.value, k.key);
          else assert.equal(createHash('sha256').update(kv.value).digest('hex'), k.value_sha256, k.key);
          assert.deepEqual(
            [kv.create, kv.mod, kv.version, kv.lease],
            [k.create_revision, k.mod_revision, k.version, k.lease ?? null],
            k.key,
          );
        }
        t.diagnostic(`replay: ${want.length} keys at revision ${store.rev}, as the manifest says`);
      } finally {
        fx.cleanup();
      }
    });
  }
});

describe('entry payloads of the damaged fixtures', () => {
  const damaged = listFixtures().filter((n) => readManifest(n).category === 'damaged');
  it('there are damaged fixtures to read', (t) => {
    if (damaged.length === 0 && process.env['CI'] !== 'true') t.skip('no damaged fixtures present: not run');
    else assert.ok(damaged.length > 0);
  });
  for (const name of damaged) {
    it(`${name}: every readable or salvaged entry is described without throwing`, async (t) => {
      const fx = await loadFixture(name);
      try {
        const walDir = join(fx.dir, 'member', 'wal');
        const segments = readdirSync(walDir)
          .filter((n) => n.endsWith('.wal'))
          .sort()
          .map((n) => ({ name: n, source: bytesSource(readFileSync(join(walDir, n))) }));
        const counts = { entries: 0, salvaged: 0, undecodable: 0 };
        for (const ev of walkWal(segments, { salvage: true })) {
          if (ev.kind !== 'record' || ev.payload.type !== 'entry') continue;
          const p = describeEntry(ev.payload.entry);
          entryPayloadJson.parse(p);
          assert.ok(summarizeEntry(ev.payload.entry).length > 0);
          counts.entries++;
          if (ev.salvaged !== undefined) counts.salvaged++;
          if (p.kind === 'undecodable') counts.undecodable++;
        }
        t.diagnostic(JSON.stringify(counts));
        // The damage hits frames and CRCs, not the payload encoding of the records etcd accepts.
        assert.ok(counts.entries > 0);
      } finally {
        fx.cleanup();
      }
    });
  }
});
