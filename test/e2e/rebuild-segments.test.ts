// `rebuild --from <data dir>` reads the WAL only from one segment before the one holding the db's
// consistent index + 1 (salvage.ts writeUnapplied, names.ts firstSegmentFrom). Proven on a
// four-segment dir written by real etcd 3.6.16: for consistent indexes on and around every segment
// boundary, the unapplied entries are exactly those a walk of the whole log finds above the index;
// damage in a segment left unread marks none of them damaged; and etcd boots on the rebuilt dir,
// serves the keys and takes a write.
//
// Needs etcd 3.6.16 (scripts/etcd-bin.sh 3.6): with CI=true a missing binary fails the test,
// otherwise the test is skipped and says that it was NOT run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { bootEtcd, getAll, needEtcd, put } from '../support/etcd.js';
import { runCli as cli } from '../support/cli.js';
import { locate } from '../../src/io/layout.js';
import { FileSource } from '../../src/io/file-source.js';
import { exportLines } from '../../src/export/ndjson.js';
import { writeUnapplied } from '../../src/rebuild/salvage.js';
import { parseWalName } from '../../src/format/wal/names.js';

const FILLER = 1_000_000;

async function putRaw(endpoint: string, key: string, value: Buffer): Promise<void> {
  const r = await fetch(`${endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: value.toString('base64') }) });
  const body = await r.text();
  assert.equal(r.status, 200, body);
}

/** Real etcd 3.6 writes small keys between 1 MB fillers until member/wal holds `segments` segments. */
async function makeDir(dir: string, segments: number): Promise<string[]> {
  const e = await bootEtcd('3.6', dir);
  assert.ok(e.ok, `${e.error}\n${e.logTail}`);
  const keys: string[] = [];
  try {
    const walDir = join(dir, 'member', 'wal');
    const count = () => readdirSync(walDir).filter((f) => f.endsWith('.wal')).length;
    const filler = Buffer.alloc(FILLER, 0x61);
    for (let i = 0; count() < segments || i % 16 !== 0; i++) {
      if (i % 4 === 0) await putRaw(e.endpoint, `/filler/${i % 8}`, filler);
      else {
        const key = `/seg/${String(i).padStart(5, '0')}`;
        await putRaw(e.endpoint, key, Buffer.from(`value-${i}`));
        keys.push(key);
      }
    }
  } finally {
    await e.stop();
  }
  return keys;
}

/** Entry lines as NDJSON text: writeUnapplied's file, or a walk of every segment from `fromIndex`. */
function unappliedText(dir: string, consistentIndex: bigint, out: string): { text: string; skipped: number; damaged: number } {
  rmSync(out, { force: true });
  const u = writeUnapplied(locate(dir), consistentIndex, out);
  return { text: readFileSync(out, 'utf8'), skipped: u.segmentsSkipped, damaged: u.damaged };
}
function wholeLog(dir: string, fromIndex: bigint): string[] {
  const layout = locate(dir);
  const segments = layout.segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
  try {
    return [...exportLines(segments, { fromIndex, types: ['entry'], includeDamaged: true })].map((l) => JSON.stringify(l));
  } finally {
    for (const s of segments) s.source.close();
  }
}

describe('rebuild --from a data dir of several WAL segments', () => {
  it('reads from one segment before the consistent index: the same unapplied entries as the whole log; etcd 3.6 boots on the result', async (t) => {
    if (!(await needEtcd(t, '3.6'))) return;
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-segments-'));
    try {
      const dir = join(work, 'src');
      const keys = await makeDir(dir, 4);
      const layout = locate(dir);
      const starts = layout.segments.map((p) => parseWalName(basename(p))!.index);
      assert.ok(starts.length >= 4, `${starts.length} segments`);
      const all = wholeLog(dir, 0n).map((line) => ({ line, index: BigInt((JSON.parse(line) as { index: string }).index) }));
      const last = all.reduce((a, b) => (a > b.index ? a : b.index), 0n);

      const out = join(work, 'unapplied.ndjson');
      const cis = [0n, ...starts.slice(1).flatMap((s) => [s - 2n, s - 1n, s]), last - 3n, last];
      for (const ci of cis) {
        const got = unappliedText(dir, ci, out);
        // (the whole log's lines above ci: what its walk with fromIndex ci + 1 yields)
        const want = all.filter((l) => l.index > ci).map((l) => l.line + '\n');
        assert.equal(got.text, want.join(''), `consistent index ${ci}`);
        // consistentIndex + 1 lies in the segment whose name index is the last at most it
        const holding = starts.filter((s) => s <= ci + 1n).length - 1;
        assert.equal(got.skipped, Math.max(0, holding - 1), `consistent index ${ci}: segments skipped`);
      }
      assert.ok(unappliedText(dir, last - 3n, out).skipped >= 2, 'the bench case: most of the log is left unread');

      // The whole dir rebuilt: nothing above the db's index, the first segments unread, and etcd
      // serves every key and takes a write.
      const rebuilt = join(work, 'new');
      const r = cli(['rebuild', '--json', '--from', dir, '--out', rebuilt, '--unapplied', join(work, 'cli.ndjson')]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const res = JSON.parse(r.stdout) as { unapplied: { entries: number; segmentsSkipped: number; firstSegment: string } };
      assert.equal(res.unapplied.entries, 0);
      assert.equal(res.unapplied.segmentsSkipped, starts.length - 2);
      assert.equal(res.unapplied.firstSegment, basename(layout.segments[starts.length - 2]!));
      const e = await bootEtcd('3.6', rebuilt);
      assert.ok(e.ok, `${e.error}\n${e.logTail}`);
      try {
        const served = (await getAll(e.endpoint, '3.6')).kvs;
        for (const k of keys) assert.ok(served.has(k), `${k} is served`);
        await put(e.endpoint, '/after-rebuild', 'ok', '3.6');
        assert.equal((await getAll(e.endpoint, '3.6')).kvs.get('/after-rebuild')?.value.toString(), 'ok');
      } finally {
        await e.stop();
      }

      // Damage in the first segment, which is not read: the entries above the index are the same
      // and none is marked damaged, where a walk of the whole log marks every one past the damage.
      const seg0 = layout.segments[0]!;
      const bytes = readFileSync(seg0);
      bytes[4096] = bytes[4096]! ^ 0xff;
      writeFileSync(seg0, bytes);
      const got = unappliedText(dir, last - 3n, out);
      assert.equal(got.damaged, 0);
      const whole = wholeLog(dir, last - 2n).map((l) => JSON.parse(l) as { damaged?: boolean; index: string; payload: unknown });
      assert.ok(whole.length === 3 && whole.every((l) => l.damaged === true), 'the whole log marks them damaged');
      const ours = got.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { damaged?: boolean; index: string; payload: unknown });
      assert.deepEqual(ours.map((l) => [l.index, l.payload]), whole.map((l) => [l.index, l.payload]));
      assert.ok(ours.every((l) => l.damaged === undefined));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
