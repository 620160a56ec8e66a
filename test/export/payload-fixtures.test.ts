// describeEntry on every entry of the committed real-etcd fixtures (fixtures/*.tar.gz, made by
// fixtures/generate.sh with etcd 3.4.23 / 3.5.30): nothing is undecodable, everything fits the
// schema, and replaying the JSON (puts, deletes, txns with their compares, lease revokes) gives
// exactly the keys, values, revisions and leases the fixture's manifest says etcd serves.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeEntry, summarizeEntry } from '../../src/export/payload.js';
import { entryPayloadJson } from '../../src/export/payload-schema.js';
import type { BytesJson, CompareJson, EntryPayloadJson, KvOpJson } from '../../src/export/payload-schema.js';
import { decodeEntry, decodeRecord } from '../../src/format/proto/messages.js';
import type { Entry } from '../../src/format/proto/messages.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const FIXTURES = join(REPO, 'fixtures');

interface ManifestKey {
  key: string;
  present: boolean;
  value?: string;
  value_sha256?: string;
  value_bytes?: number;
  create_revision?: number;
  mod_revision?: number;
  version?: number;
  lease?: string | null;
}
interface Manifest {
  name: string;
  member_id: string;
  last_revision: number;
  etcd_version: string;
  keys: ManifestKey[];
}

// ---------------------------------------------------------------------------------------------
// Fixture data dirs: unpacked once into a scratch dir (read-only use).

let scratch = '';
function fixtureDir(name: string): string {
  const dir = join(scratch, name);
  if (!existsSync(dir)) {
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('tar', ['-xzf', join(FIXTURES, `${name}.tar.gz`), '-C', dir]);
  }
  return dir;
}
function manifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.manifest.json`), 'utf8')) as Manifest;
}

/**
 * Test-only WAL frame walker (the real one lives in src/format/wal): 8-byte LE length word, low
 * 56 bits N, padding in bits 56..58 when bit 63 is set; a zero word ends the data. Yields the
 * entries of every segment in name order, later entries replacing earlier ones with the same or
 * a higher index (raft truncates the log on conflict).
 */
function walEntries(dataDir: string): Entry[] {
  const walDir = join(dataDir, 'member', 'wal');
  const byIndex: Entry[] = [];
  let first: bigint | undefined;
  for (const f of readdirSync(walDir).filter((n) => n.endsWith('.wal')).sort()) {
    const b = readFileSync(join(walDir, f));
    let off = 0;
    while (off + 8 <= b.length) {
      const word = b.readBigUInt64LE(off);
      if (word === 0n) break;
      const n = Number(word & 0xff_ffff_ffff_ffffn);
      const pad = word >> 63n === 1n ? Number((word >> 56n) & 7n) : 0;
      assert.ok(off + 8 + n + pad <= b.length, `${f}: frame at ${off} runs past the file`);
      const rec = decodeRecord(b.subarray(off + 8, off + 8 + n));
      if (rec.type === 2 && rec.data !== undefined) {
        const e = decodeEntry(rec.data);
        first ??= e.index;
        const at = Number(e.index - first);
        byIndex.length = Math.min(byIndex.length, at);
        byIndex[at] = e;
      }
      off += 8 + n + pad;
    }
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

const HEALTHY = ['v34-workload', 'v35-workload', 'v35-crash', 'v34-then-v35', 'v35-snapshots', 'v35-segments', 'v35-fresh'];
// The torn tail etcd repaired lost WAL records whose writes the db already had; its WAL alone
// does not give the served keys, so it is only decoded, not replayed.
const DECODE_ONLY = ['v35-etcd-repaired'];

describe('entry payloads of the committed real-etcd fixtures', () => {
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'payload-fixtures-'));
  });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const name of [...HEALTHY, ...DECODE_ONLY]) {
    it(`${name}: every entry decodes, fits the schema and summarizes`, (t) => {
      if (!existsSync(join(FIXTURES, `${name}.tar.gz`))) {
        if (process.env['CI'] === 'true') assert.fail(`fixture ${name} missing`);
        t.skip(`fixture ${name}.tar.gz not present (run fixtures/generate.sh ${name})`);
        return;
      }
      const entries = walEntries(fixtureDir(name));
      assert.ok(entries.length > 0);
      const kinds = new Map<string, number>();
      for (const e of entries) {
        const p = describeEntry(e);
        entryPayloadJson.parse(p);
        assert.notEqual(p.kind, 'undecodable', `index ${e.index}: ${JSON.stringify(p)}`);
        const kind = p.kind === 'v3' ? `v3:${p.request.op}` : p.kind;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        assert.ok(summarizeEntry(e).length > 0);
      }
      t.diagnostic(`${entries.length} entries: ${[...kinds].map(([k, n]) => `${k}=${n}`).join(' ')}`);
      assert.ok((kinds.get('conf_change') ?? 0) >= 1 || name === 'v35-snapshots', 'bootstrap conf change');
    });
  }

  for (const name of HEALTHY) {
    it(`${name}: replaying the JSON gives exactly the manifest's keys, values and revisions`, (t) => {
      if (!existsSync(join(FIXTURES, `${name}.tar.gz`))) {
        if (process.env['CI'] === 'true') assert.fail(`fixture ${name} missing`);
        t.skip(`fixture ${name}.tar.gz not present`);
        return;
      }
      const m = manifest(name);
      const store = new Store();
      for (const e of walEntries(fixtureDir(name))) store.entry(describeEntry(e));
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
      t.diagnostic(`${want.length} keys at revision ${store.rev}`);
    });
  }

  for (const name of ['v34-workload', 'v35-workload']) {
    it(`${name}: bare v2 requests publish the member attributes and the cluster version`, (t) => {
      if (!existsSync(join(FIXTURES, `${name}.tar.gz`))) {
        if (process.env['CI'] === 'true') assert.fail(`fixture ${name} missing`);
        t.skip(`fixture ${name}.tar.gz not present`);
        return;
      }
      const m = manifest(name);
      const lines = walEntries(fixtureDir(name)).map((e) => summarizeEntry(e));
      const series = m.etcd_version.startsWith('3.4') ? '3.4.0' : '3.5.0';
      assert.ok(lines.includes(`V2 PUT /0/version = ${series}`), lines.slice(0, 6).join('\n'));
      // etcd names the member path with types.ID.String(): hex without leading zeros.
      const idPath = BigInt(`0x${m.member_id}`).toString(16);
      const attrs = lines.find((l) => l.startsWith(`V2 PUT /0/members/${idPath}/attributes = {`));
      assert.ok(attrs !== undefined, lines.slice(0, 6).join('\n'));
      assert.ok(lines.includes('NOOP'));
      assert.ok(lines.some((l) => l.startsWith(`CONF_CHANGE AddNode ${m.member_id}`)));
    });
  }
});
