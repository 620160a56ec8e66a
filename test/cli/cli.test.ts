// The command line as users run it: exit codes, one-line errors (never a stack trace), --json
// against its schema, and export's filters — on real fixtures and on copies of them damaged here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportJson } from '../../src/inspect/report.js';
import { ExportLine } from '../../src/export/ndjson-schema.js';
import { runCli as cli } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

const SEG0 = 'member/wal/0000000000000000-0000000000000000.wal';

function assertOneLineError(stderr: string, ...mustContain: string[]) {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, /^wal-doctor: /);
  assert.doesNotMatch(stderr, /\n\s+at /, 'stack trace');
  for (const s of mustContain) assert.ok(lines[0]!.includes(s), `"${lines[0]}" should mention ${s}`);
}

describe('wal-doctor CLI', () => {
  let fx: LoadedFixture;
  let scratch: string;
  before(async () => {
    fx = await loadFixture('v35-workload');
    scratch = mkdtempSync(join(tmpdir(), 'wal-doctor-cli-'));
  });
  after(() => {
    fx.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('verify on a healthy dir: exit 0 and a one-line verdict first', () => {
    const r = cli(['verify', fx.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0]!, /^healthy \(exit 0\)/);
  });

  it('inspect --json prints one object that fits the published schema', () => {
    const r = cli(['inspect', '--json', fx.dir]);
    assert.equal(r.code, 0, r.stderr);
    const report = ReportJson.parse(JSON.parse(r.stdout));
    assert.equal(report.kind, 'data-dir');
    assert.equal(report.wal?.memberId, fx.manifest.member_id);
    const schema = JSON.parse(cli(['schema']).stdout) as { $schema?: string; properties?: Record<string, unknown> };
    assert.match(schema.$schema ?? '', /json-schema/);
    assert.ok(schema.properties && 'verdict' in schema.properties);
  });

  it('inspect accepts a member dir, a wal dir, one .wal and a db file', () => {
    assert.equal(ReportJson.parse(JSON.parse(cli(['inspect', '--json', join(fx.dir, 'member')]).stdout)).kind, 'member-dir');
    assert.equal(ReportJson.parse(JSON.parse(cli(['inspect', '--json', join(fx.dir, 'member/wal')]).stdout)).kind, 'wal-dir');
    const one = ReportJson.parse(JSON.parse(cli(['inspect', '--json', join(fx.dir, SEG0)]).stdout));
    assert.equal(one.kind, 'wal-file');
    assert.equal(one.wal?.segments.length, 1);
    const db = ReportJson.parse(JSON.parse(cli(['inspect', '--json', join(fx.dir, 'member/snap/db')]).stdout));
    assert.equal(db.kind, 'db-file');
    assert.ok(db.db?.consistentIndex);
  });

  it('a path that does not exist: exit 66, one line naming it', () => {
    const r = cli(['verify', join(scratch, 'nope')]);
    assert.equal(r.code, 66);
    assertOneLineError(r.stderr, join(scratch, 'nope'));
  });

  it('a file that is not etcd\'s: exit 66, one line saying what was expected', () => {
    const p = join(scratch, 'notes.txt');
    writeFileSync(p, 'hello\n');
    const r = cli(['inspect', p]);
    assert.equal(r.code, 66);
    assertOneLineError(r.stderr, p, 'expected');
    const d = join(scratch, 'emptydir');
    mkdirSync(d);
    const r2 = cli(['verify', d]);
    assert.equal(r2.code, 66);
    assertOneLineError(r2.stderr, d, 'not an etcd data dir');
  });

  it('a WAL kept elsewhere: --wal-dir reads it; without it the dir has no log (exit 2, says why)', () => {
    const dir = join(scratch, 'waldir');
    cpSync(fx.dir, dir, { recursive: true });
    const walDir = join(scratch, 'waldir-wal');
    cpSync(join(dir, 'member/wal'), walDir, { recursive: true });
    rmSync(join(dir, 'member/wal'), { recursive: true });
    assert.equal(cli(['verify', '--wal-dir', walDir, dir]).code, 0);
    const r = cli(['verify', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /no WAL segment.*brand-new, empty member/);
    assert.match(r.stdout, /--wal-dir/);
  });

  it('usage errors exit 64', () => {
    assert.equal(cli(['verify', '--etcd-version', '9.9', fx.dir]).code, 64);
    assert.equal(cli(['frobnicate']).code, 64);
    assert.equal(cli(['export', '--from-index', 'ten', fx.dir]).code, 64);
    assert.equal(cli(['export', '--type', 'bogus', fx.dir]).code, 64);
  });

  it('permission denied: exit 74, one line naming the file', (t) => {
    const dir = join(scratch, 'perm');
    cpSync(fx.dir, dir, { recursive: true });
    chmodSync(join(dir, SEG0), 0o000);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // root reads anything: run the CLI as nobody on a tree nobody may enter but not read.
      for (const p of [scratch, dir, join(dir, 'member'), join(dir, 'member/wal'), join(dir, 'member/snap')]) chmodSync(p, 0o755);
      chmodSync(join(dir, 'member/snap/db'), 0o644);
    } else t.diagnostic('running as a normal user: chmod 000 is enough');
    const r = cli(['verify', dir], asRoot ? { uid: 65534 } : {});
    assert.equal(r.code, 74, r.stderr);
    assertOneLineError(r.stderr, SEG0, 'permission denied');
  });

  it('a length field claiming 2^56 bytes: a finding with file and offset, exit 1, no allocation', () => {
    const dir = join(scratch, 'huge');
    cpSync(fx.dir, dir, { recursive: true });
    const clean = ReportJson.parse(JSON.parse(cli(['inspect', '--json', dir]).stdout));
    const end = clean.wal!.segments[0]!.goodBytes;
    const fd = openSync(join(dir, SEG0), 'r+');
    writeSync(fd, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]), 0, 8, end);
    closeSync(fd);
    const r = cli(['verify', '--json', dir]);
    assert.equal(r.code, 1, r.stdout);
    const rep = ReportJson.parse(JSON.parse(r.stdout));
    const f = rep.findings.find((x) => x.code === 'oversized-length');
    assert.ok(f, JSON.stringify(rep.findings));
    assert.equal(f.offset, end);
    assert.equal(f.file, SEG0);
    assert.match(f.message, new RegExp(`at byte ${end}`));
  });

  it('a 0-byte last segment and a .snap cut mid-varint are findings, not crashes', async () => {
    const snaps = await loadFixture('v35-snapshots');
    try {
      const snap = readFileSync(join(snaps.dir, 'member/snap', snaps.manifest.files.find((f) => f.path.endsWith('.snap'))!.path.split('/').pop()!));
      const cutPath = join(scratch, '0000000000000002-0000000000000001.snap');
      writeFileSync(cutPath, snap.subarray(0, 3)); // crc field's varint cut after 2 of its bytes
      const one = ReportJson.parse(JSON.parse(cli(['inspect', '--json', cutPath]).stdout));
      assert.equal(one.snapFiles[0]?.status, 'snap-decode-error');
      // etcd's own text for it (gogoproto's io.ErrUnexpectedEOF), as snapCheckError promises
      assert.equal(one.snapFiles[0]?.error, 'unexpected EOF');
    } finally {
      snaps.cleanup();
    }
    const dir = join(scratch, 'zero');
    cpSync(fx.dir, dir, { recursive: true });
    truncateSync(join(dir, SEG0), 0);
    const r = cli(['verify', '--json', dir]);
    const rep = ReportJson.parse(JSON.parse(r.stdout));
    assert.ok(rep.findings.some((f) => f.code === 'empty-segment' && f.file === SEG0));
    assert.notEqual(r.code, 0);
  });

  it('one .snap file: intact exits 0, the one damage.mjs flipped exits 1 naming the CRC', async () => {
    const fxs = await loadFixture('v35-broken-snap');
    try {
      const broken = join(fxs.dir, fxs.manifest.damage!.file);
      const r = cli(['verify', broken]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /snap: crc mismatch/);
      const intact = fxs.manifest.files.map((f) => f.path).filter((p) => p.endsWith('.snap') && !broken.endsWith(p))[0]!;
      assert.equal(cli(['verify', join(fxs.dir, intact)]).code, 0);
    } finally {
      fxs.cleanup();
    }
  });

  it('export: one line per record, in log order, filters narrow it', () => {
    const all = cli(['export', fx.dir]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
    const rep = ReportJson.parse(JSON.parse(cli(['inspect', '--json', fx.dir]).stdout));
    const seg = rep.wal!.segments[0]!;
    const total = Object.values(seg.records).reduce((a, b) => a + b, 0);
    assert.equal(lines.length, total);
    assert.deepEqual(lines.map((l) => l.offset), [...lines.map((l) => l.offset)].sort((a, b) => a - b));
    const entries = lines.filter((l) => l.recordType === 'entry');
    assert.equal(entries.length, seg.records.entry);

    const puts = cli(['export', '--type', 'put', fx.dir]).stdout.trimEnd().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
    assert.ok(puts.length > 0);
    assert.ok(puts.every((l) => l.payload?.kind === 'v3' && l.payload.request.op === 'put'));

    const ranged = cli(['export', '--from-index', '10', '--to-index', '20', fx.dir]).stdout.trimEnd().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
    assert.deepEqual(ranged.map((l) => Number(l.index)), Array.from({ length: 11 }, (_, i) => 10 + i));

    const txn = cli(['export', '--key-prefix', '/fixture/txn/', fx.dir]).stdout.trimEnd().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
    assert.ok(txn.length > 0);
    assert.ok(txn.every((l) => JSON.stringify(l.payload).includes('/fixture/txn/')));

    const out = join(scratch, 'out.ndjson');
    assert.equal(cli(['export', '--output', out, fx.dir]).code, 0);
    assert.equal(readFileSync(out, 'utf8'), all.stdout);
    const again = cli(['export', '--output', out, fx.dir]);
    assert.equal(again.code, 64, 'refuses to overwrite without --force');
    assertOneLineError(again.stderr, out);
  });

  it('export stops at the first damage, and --include-damaged marks what follows', async () => {
    const bad = await loadFixture('v35-bitflip-mid');
    try {
      const plain = cli(['export', bad.dir]).stdout.trimEnd().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
      assert.ok(plain.every((l) => l.offset < bad.manifest.damage!.last_good_offset!));
      assert.ok(plain.every((l) => !l.damaged));
      const more = cli(['export', '--include-damaged', bad.dir]).stdout.trimEnd().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
      const damaged = more.filter((l) => l.damaged);
      assert.equal(damaged.length, bad.manifest.damage!.records_after_damage);
      assert.ok(damaged.every((l) => l.chained === true && l.recordNo === null));
      assert.deepEqual(more.slice(0, plain.length), plain);
    } finally {
      bad.cleanup();
    }
  });
});
