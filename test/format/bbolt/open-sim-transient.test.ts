// bbolt's Open and etcd's restore, as verify simulates them, read a db file through
// BoltFile.readTransient: blocks and large-value buffers are reused once a few more have been read.
// Whatever the walk keeps past that must be a copy. Two sources that hold the walk to it must give
// the same outcome, item for item, as reading the same bytes from memory, on real etcd dbs and on
// damaged copies of them: a BoltFile with a cache of three 4 KiB blocks (real walks keep 64 of
// 64 KiB), and a source that scribbles over what each transient read handed out three reads later
// (which catches a view kept too long even where the reused memory would hold the same page again).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { BOLT_1_3_6, BOLT_1_4, BOLT_1_5, simulateOpen, type OpenResult } from '../../../src/format/bbolt/open-sim.js';
import { checkRestore } from '../../../src/format/bbolt/etcd-restore.js';
import { bytesSource, type PageSource } from '../../../src/format/bbolt/page.js';
import { checkEtcdUnmarshal, unmarshalFailureText } from '../../../src/format/proto/unmarshal.js';
import { crc32cUpdate } from '../../../src/format/crc.js';
import { BoltFile } from '../../../src/io/bolt-file.js';
import { loadFixture } from '../../support/fixtures.js';
import { mulberry32 as rng } from '../../support/random.js';
import { externalFile } from './helpers.js';

const LINES = [BOLT_1_3_6, BOLT_1_4, BOLT_1_5];

/** What verify takes from the open and the restore, and a hash of every key item handed on. */
function outcome(src: PageSource): string[] {
  const out: string[] = [];
  for (const line of LINES) {
    const r: OpenResult = simulateOpen(src, line);
    const { view, ...rest } = r as OpenResult & { view?: unknown };
    out.push(`${line.name} open ${JSON.stringify(rest, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    if (!('view' in r) || !r.view || !('meta' in r) || !r.meta) continue;
    let items = 0;
    let hash = 0;
    const restore = checkRestore(
      r.view,
      r.meta.root,
      (typeName, bytes) => {
        const u = checkEtcdUnmarshal(typeName, bytes, { release: '3.5' });
        return u.ok ? undefined : unmarshalFailureText(u.failure);
      },
      (rev, kv) => {
        items++;
        hash = crc32cUpdate(kv, crc32cUpdate(rev, hash));
      },
    );
    out.push(`${line.name} restore ${JSON.stringify(restore, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))} items ${items} hash ${hash}`);
  }
  return out;
}

/**
 * Bytes from memory; a transient read's copy is overwritten after KEEP more transient reads, with
 * 0x00 and 0xff in turn (a bound kept too long then sorts before or after every key).
 */
function scribbling(bytes: Uint8Array): PageSource {
  const KEEP = 3;
  const handedOut: Uint8Array[] = [];
  let scribbled = 0;
  const slice = (offset: number, length: number): Uint8Array => {
    const start = Math.max(0, Math.min(offset, bytes.length));
    return bytes.slice(start, Math.min(bytes.length, start + Math.max(0, length)));
  };
  return {
    size: bytes.length,
    read: slice,
    readTransient(offset, length) {
      const b = slice(offset, length);
      handedOut.push(b);
      if (handedOut.length > KEEP) handedOut.shift()!.fill(scribbled++ % 2 === 0 ? 0x00 : 0xff);
      return b;
    },
  };
}

function compare(bytes: Uint8Array, label: string): void {
  const fromMemory = outcome(bytesSource(bytes));
  assert.deepEqual(outcome(scribbling(bytes)), fromMemory, `${label}, scribbling source`);
  const dir = mkdtempSync(join(tmpdir(), 'wal-doctor-transient-'));
  try {
    const path = join(dir, 'db');
    writeFileSync(path, bytes);
    const file = new BoltFile(path, { blockSize: 4096, cacheBlocks: 3 });
    try {
      assert.deepEqual(outcome(file), fromMemory, `${label}, BoltFile`);
    } finally {
      file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fixtureDb(name: string): Promise<Uint8Array> {
  const fx = await loadFixture(name);
  try {
    return new Uint8Array(readFileSync(join(fx.dir, 'member', 'snap', 'db')));
  } finally {
    fx.cleanup();
  }
}

describe('open and restore through transient reads', () => {
  // Real dbs of each line, Kubernetes objects, and the db damages the fixtures carry.
  for (const name of ['v34-workload', 'v35-k8s', 'v36-workload', 'v37-workload', 'v35-db-value-bitflip', 'v36-db-page-zeroed', 'v35-db-truncated', 'v36-db-truncated-small']) {
    it(`reads ${name}'s db as from memory`, async () => {
      compare(await fixtureDb(name), name);
    });
  }

  it('reads auger\'s Kubernetes db as from memory', (t: TestContext) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (path) compare(new Uint8Array(readFileSync(path)), 'auger');
  });

  it('reads 60 copies of v35-k8s\'s db with a byte flipped near the start of a tree page as from memory', async () => {
    const db = await fixtureDb('v35-k8s');
    // the pages the tree reaches (most of the file is free pages no walk reads)
    const clean = simulateOpen(bytesSource(db), BOLT_1_4);
    assert.ok(clean.ok && !clean.newDb);
    const tree: number[] = [];
    for (let id = 2; id < db.length / 4096; id++) if (clean.view.reachable.has(BigInt(id))) tree.push(id);
    assert.ok(tree.length >= 3, `${tree.length} tree pages`);
    const r = rng(0x7a5);
    const failures = new Set<string>();
    for (let n = 0; n < 60; n++) {
      const bytes = db.slice();
      // a page's header, elements and first keys: where a flip changes what the walks do
      const at = tree[Math.floor(r() * tree.length)]! * 4096 + Math.floor(r() * 512);
      bytes[at] = bytes[at]! ^ 0xff;
      compare(bytes, `flip at ${at}`);
      for (const l of outcome(bytesSource(bytes))) failures.add(l.split('"code":"')[1]?.split('"')[0] ?? 'none');
    }
    // the flips reached the walks' failure paths too, not only clean opens
    assert.ok(failures.size > 1, [...failures].join(' '));
  });
});
