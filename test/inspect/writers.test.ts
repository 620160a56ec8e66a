// The `two-writers` finding: on fixtures/v35-two-writers (segment 0 of a real etcd 3.5.30 WAL with a
// run of another real WAL's first records spliced in by fixtures/damage.mjs two-writers) it names the
// offset where the second writer's records start and its member ID; on every other committed fixture
// (one writer each, damaged ones included: bit flips, zeroed sectors, garbage, torn tails) it never
// appears.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { findingMessage } from '../../src/cli/render/findings.js';
import { FileSource } from '../../src/io/file-source.js';
import { walkWal } from '../../src/format/wal/walk.js';
import { runCli } from '../support/cli.js';
import { FIXTURES_DIR, listFixtures, loadFixture } from '../support/fixtures.js';

const NAME = 'v35-two-writers';

describe('two-writers finding', () => {
  it(`${NAME}: reported at the offset where writer B's records start, with B's member ID`, async () => {
    const fx = await loadFixture(NAME);
    try {
      const dmg = fx.manifest.damage!;
      const b = dmg['writer_b'] as { starts_at: number; metadata_offset: number; member_id: string; records: number };
      const a = dmg['writer_a'] as { resumes_at: number };
      const { report } = inspectPath(fx.dir);
      const tw = report.findings.filter((f) => f.code === 'two-writers');
      assert.equal(tw.length, 1, JSON.stringify(tw));
      const f = tw[0]!;
      assert.equal(f.severity, 'error');
      assert.equal(f.file, dmg.file);
      assert.equal(f.offset, b.starts_at);
      assert.equal(f.details?.['memberId'], b.member_id);
      assert.notEqual(b.member_id, fx.manifest.member_id);
      assert.equal(f.details?.['metadataOffset'], b.metadata_offset);
      assert.equal(f.details?.['resumesAt'], a.resumes_at);
      assert.equal(f.details?.['chainedRecords'], b.records - 1);
      assert.match(findingMessage(f), new RegExp(`at byte ${b.starts_at}:`));
      assert.match(findingMessage(f), new RegExp(`member ${b.member_id}`));
    } finally {
      fx.cleanup();
    }
  });

  for (const name of listFixtures().filter((n) => n !== NAME)) {
    it(`${name}: one writer, no two-writers finding`, async () => {
      const fx = await loadFixture(name);
      try {
        const { report } = inspectPath(fx.dir);
        assert.deepEqual(report.findings.filter((f) => f.code === 'two-writers'), []);
      } finally {
        fx.cleanup();
      }
    });
  }

  // A second process appending its own copy of the log: past a torn word, records that chain with
  // each other and write indexes the segment already holds, in the same term. Real records of
  // v35-fresh's last segment (its last six) are written again after eight bytes of 0xff.
  it('records past the damage that write the same indexes again, same term: two-writers, and repair refuses', async () => {
    const fx = await loadFixture('v35-fresh');
    try {
      const walDir = join(fx.dir, 'member', 'wal');
      const last = readdirSync(walDir).filter((n) => n.endsWith('.wal')).sort().at(-1)!;
      const path = join(walDir, last);
      const src = new FileSource(path);
      const offsets: number[] = [];
      let end = 0;
      try {
        for (const ev of walkWal([{ name: last, source: src }])) {
          if (ev.kind === 'record') offsets.push(ev.offset);
          if (ev.kind === 'segment-end') end = ev.end.offset;
        }
      } finally {
        src.close();
      }
      assert.ok(offsets.length > 8, `${last}: ${offsets.length} records`);
      const from = offsets[offsets.length - 6]!;
      const copy = readFileSync(path).subarray(from, end);
      const fd = openSync(path, 'r+');
      try {
        writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, end);
        writeSync(fd, copy, 0, copy.length, end + 8);
      } finally {
        closeSync(fd);
      }
      const { report } = inspectPath(fx.dir);
      const tw = report.findings.filter((f) => f.code === 'two-writers');
      assert.equal(tw.length, 1, JSON.stringify(report.findings.map((f) => f.code)));
      assert.equal(tw[0]!.file, join('member', 'wal', last));
      assert.equal(tw[0]!.offset, end + 8);
      assert.match(findingMessage(tw[0]!), /start again at index \d+, at or below the last entry before it/);
      const r = runCli(['repair', '--dry-run', fx.dir]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /another writer's records are over this one's/);
    } finally {
      fx.cleanup();
    }
  });

  // the cluster fixtures: one tarball holding a/, b/, c/ (each member dir one writer)
  const clusters = readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.cluster-manifest.json'));
  it('cluster fixtures are listed', () => assert.ok(clusters.length >= 1));
  for (const cm of clusters) {
    const name = cm.slice(0, -'.cluster-manifest.json'.length);
    it(`${name}: no member's log has a two-writers finding`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `wal-doctor-fx-${name}-`));
      try {
        execFileSync('tar', ['-C', dir, '-xzf', join(FIXTURES_DIR, `${name}.tar.gz`)]);
        const fx = { dir };
        let seen = 0;
        for (const m of readdirSync(fx.dir)) {
          if (!existsSync(join(fx.dir, m, 'member'))) continue;
          seen++;
          const { report } = inspectPath(join(fx.dir, m));
          assert.deepEqual(report.findings.filter((f) => f.code === 'two-writers'), [], m);
        }
        assert.ok(seen >= 3, `${name}: ${seen} member dirs`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
