// The progress bar of src/cli/render/progress.ts: drawn only on a terminal, only after the delay,
// erased at the end; and the CLI prints nothing extra when stderr is a pipe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar, progressLine } from '../../src/cli/render/progress.js';
import { inspectPath } from '../../src/inspect/analyze.js';
import { runCli } from '../support/cli.js';
import { type LoadedFixture, loadFixture } from '../support/fixtures.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 80, writes, write: (s: string) => writes.push(s) };
}

describe('progress bar', () => {
  test('the line: bar, percent, bytes/s and ETA, within the width', () => {
    const line = progressLine(50 << 20, 200 << 20, 2, 80);
    assert.match(line, /^\[#{10}-{30}\]  25%  25\.0 MB\/s  ETA 6s$/);
    assert.ok(line.length <= 80);
    assert.match(progressLine(0, 100, 0, 80), /  0%  0 B\/s  ETA \?$/);
    assert.match(progressLine(1, 100 << 20, 1, 80), /ETA \d+m\d\ds$/);
  });

  test('nothing before 0.5 s, then at most every 100 ms, erased by done()', () => {
    let t = 0;
    const s = fakeStream(true);
    const bar = progressBar({ stream: s, now: () => t });
    bar.onProgress(10, 100);
    t = 400;
    bar.onProgress(20, 100);
    assert.deepEqual(s.writes, [], 'quick work prints nothing');
    t = 600;
    bar.onProgress(30, 100);
    t = 650;
    bar.onProgress(40, 100);
    assert.equal(s.writes.length, 1);
    assert.match(s.writes[0]!, /^\r\[#+-+\]  30%/);
    t = 800;
    bar.onProgress(100, 100);
    bar.done();
    assert.equal(s.writes.length, 3);
    assert.equal(s.writes[2], '\r\x1b[K');
  });

  test('not on a pipe, not when disabled (--json)', () => {
    let t = 0;
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const s = fakeStream(tty);
      const bar = progressBar({ stream: s, enabled, now: () => t });
      t = 5000;
      bar.onProgress(1, 2);
      bar.done();
      assert.deepEqual(s.writes, []);
      assert.equal(bar.shown, false);
    }
  });

  describe('on a real dir', () => {
    let fx: LoadedFixture;
    before(async () => {
      fx = await loadFixture('v35-segments');
    });
    after(() => fx.cleanup());

    test('inspectPath reports the walk up to every byte of every segment, and the same report', () => {
      const seen: [number, number][] = [];
      const a = inspectPath(fx.dir, { onProgress: (d, t) => seen.push([d, t]) });
      const total = a.report.wal!.segments.reduce((n, s) => n + s.size, 0);
      assert.ok(seen.length >= 3);
      assert.ok(seen.every(([, t]) => t === total));
      assert.deepEqual(seen.at(-1), [total, total]);
      assert.ok(seen.every(([d], i) => i === 0 || d >= seen[i - 1]![0]), 'never goes back');
      const { tool: _t1, ...withBar } = a.report;
      const { tool: _t2, ...without } = inspectPath(fx.dir).report;
      assert.deepEqual(withBar, without, 'the callback changes nothing in the analysis');
    });

    test('verify and export with stderr a pipe print nothing on stderr', () => {
      for (const args of [['verify', fx.dir], ['inspect', '--json', fx.dir], ['export', fx.dir]]) {
        const r = runCli(args);
        assert.equal(r.stderr, '', `${args.join(' ')}: stderr empty`);
      }
    });
  });
});

describe('explore without a terminal', () => {
  test('refuses with exit 64 and points to inspect and export', async () => {
    const fx = await loadFixture('v35-workload');
    try {
      const r = runCli(['explore', fx.dir]);
      assert.equal(r.code, 64);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^wal-doctor: explore needs a terminal .*wal-doctor inspect .*wal-doctor export /);
    } finally {
      fx.cleanup();
    }
  });
});
