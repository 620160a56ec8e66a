// The explore screens on real fixtures, driven by keys through ink-testing-library at 80x24.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { App } from '../../src/tui/App.js';
import { inspectPath, type Analysis } from '../../src/inspect/analyze.js';
import { FileSource } from '../../src/io/file-source.js';
import { type LoadedFixture, loadFixture } from '../support/fixtures.js';

const KEYS = { enter: '\r', esc: '\u001B', down: '\u001B[B', up: '\u001B[A', pageDown: '\u001B[6~' };

/**
 * Waits for the frame, never for a fixed time: polls lastFrame() until `want` holds (a regex on the
 * frame, or a predicate), failing with the last frame after a generous timeout. Keys are written
 * back to back, as a fast typist or a paste sends them.
 */
type Want = RegExp | ((frame: string) => boolean);
const WAIT_MS = 15_000;

function open(a: Analysis) {
  const opened: FileSource[] = [];
  const app = render(
    <App
      analysis={a}
      color={false}
      size={{ width: 80, height: 24 }}
      openSegment={(i) => {
        const s = new FileSource(a.layout.segments[i]!);
        opened.push(s);
        return s;
      }}
    />,
  );
  const frame = () => app.lastFrame() ?? '';
  const until = async (want: Want, what = String(want)): Promise<string> => {
    const ok = typeof want === 'function' ? want : (f: string) => want.test(f);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const f = frame();
      if (ok(f)) return f;
      if (Date.now() > deadline) assert.fail(`${what}: not on screen after ${WAIT_MS} ms; the frame was:\n${f}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Write keys (no pause between them), then wait until the frame shows `want`. */
  const press = async (keys: string[], want: Want, what?: string) => {
    for (const k of keys) app.stdin.write(k);
    return until(want, what);
  };
  const type = (text: string) => text.split('');
  const close = () => {
    app.unmount();
    for (const s of opened) s.close();
  };
  return { app, press, type, until, close, frame };
}

/** The frame's cursor line matches `re` (the selected row, marked `>`). */
const sel = (re: RegExp) => (f: string) => re.test(selected(f));

/** The line the cursor is on (marked `>` in the first column). */
const selected = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';

describe('explore on v35-bitflip-mid (CRC mismatch at byte 20808, valid records after it)', () => {
  let fx: LoadedFixture;
  let analysis: Analysis;
  before(async () => {
    fx = await loadFixture('v35-bitflip-mid');
    analysis = inspectPath(fx.dir, { indexRecords: true });
  });
  after(() => fx.cleanup());

  test('overview: verdict and next step in full, damage, HardState, db index, in 80x24', async () => {
    const ui = open(analysis);
    const f = await ui.until(/Verdict: NEEDS REBUILD \(exit 2\)/);
    const lines = f.split('\n');
    assert.ok(lines.length <= 23, `frame has ${lines.length} lines`);
    assert.ok(lines.every((l) => l.length <= 80), 'no line is wider than 80 columns');
    // The verdict and the next step are folded, never cut, and come before everything else.
    assert.match(f, /^Verdict: NEEDS REBUILD \(exit 2\) — WAL damaged at\n +member\/wal\/0{16}-0{16}\.wal byte 20808; the usable log\n +ends at index 105 but the db has applied up to 213: truncating alone would\n +lose writes$/m);
    const next = lines.findIndex((l) => l.startsWith('Next step: wal-doctor repair --allow-entry-loss --bridge'));
    assert.ok(next > 0 && next < 6, 'the next step is on the first screen, right after the verdict');
    assert.match(lines.slice(next, next + 5).join(' ').replace(/\s+/g, ' '), /rebuild --from \S+ --out <new-dir>/, 'and its whole text');
    assert.doesNotMatch(f, /…/, 'nothing on the first screen is cut');
    assert.match(f, /consistent index 213, term 2, revision 207/);
    assert.match(f, /HardState term 2 vote 28b48bfb11dd2ab9 commit 105 \(segment 0, byte 20,776\)/);
    assert.match(f, /good data ends at byte 20,808 of segment 0/);
    assert.match(f, /Enter segments/);
    const all = await ui.press(['j', 'j', 'j'], /ERROR +member\/wal\/0000000000000000-0000000000000000\.wal at byte 20808 \(record\n +213\): crc mismatch, expected 0x054cadfb computed 0xe20267a3/, 'damage is folded, not cut');
    assert.ok(all);
    ui.close();
  });

  test('a line feed is Enter (what an Enter typed before the terminal went raw arrives as)', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    const f = await ui.press(['\n'], sel(/crc-mismatch/), 'segments after a line feed');
    assert.match(f.split('\n')[0]!, /overview › segments/);
    ui.close();
  });

  test('the same record count on the segments screen and the records screen', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    let f = await ui.press([KEYS.enter], sel(/crc-mismatch/));
    assert.match(selected(f), /^> +0 +61\.0 MB 1\.\.105 +213 +crc-mismatch/);
    assert.match(f, /^0{16}-0{16}\.wal  213 records \+ ! 1 damaged \+ 215 past it$/m);
    f = await ui.press([KEYS.enter], /running CRC/);
    assert.match(f, /^213 records \+ ! 1 damaged \+ 215 past it  crc-mismatch at 20,808$/m);
    ui.close();
  });

  test('Enter → segments, Enter → records; j/k, PgDn, G, g move the cursor; Esc goes back', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    let f = await ui.press([KEYS.enter], sel(/crc-mismatch/));
    assert.match(selected(f), /^> +0 +61\.0 MB 1\.\.105 +213 +crc-mismatch +\[#\.{11}\] 20,808$/);
    f = await ui.press([KEYS.enter], /running CRC 0x00000000/);
    assert.match(f, /overview › segments › 0000000000000000-0000000000000000\.wal/);
    assert.match(selected(f), /^> +0 crc +running CRC 0x00000000/);
    f = await ui.press(['j', 'j', 'j'], sel(/^> +80 /));
    assert.match(selected(f), /^> +80 entry +1 +1 ConfChange CONF_CHANGE AddNode 28b48bfb11dd/);
    f = await ui.press([KEYS.up], sel(/^> +56 /));
    assert.match(selected(f), /^> +56 snapshot/);
    f = await ui.press([KEYS.pageDown], (x) => !/^> +56 /.test(selected(x)));
    assert.equal(f.split('\n').filter((l) => /^[> ][ !+] +\d+ /.test(l)).length, 19, 'a page of 19 rows');
    f = await ui.press(['G'], sel(/^>\+/));
    assert.match(selected(f), /^>\+/, 'the last row is a record found past the damage');
    assert.match(f, /213 records \+ ! 1 damaged \+ 215 past it  crc-mismatch at 20,808/);
    f = await ui.press(['g'], sel(/^> +0 crc/));
    f = await ui.press([KEYS.esc], (x: string) => /overview › segments$/.test(x.split('\n')[0]!.trimEnd()));
    assert.match(selected(f), /^> +0 /, 'the segments screen kept its cursor');
    f = await ui.press([KEYS.esc], /Verdict: NEEDS REBUILD/);
    ui.close();
  });

  test('d jumps to the frame where good data ends, then to the records past it', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    let f = await ui.press(['d'], sel(/crc-mismatch/)); // overview: straight to the first damaged segment
    f = await ui.press([KEYS.enter, 'd'], /good data ends here: crc-mismatch at byte 20,808/);
    assert.match(selected(f), /^>! +20808 entry +106 +2 Normal +PUT \/fixture\/key\/000101 \(100 B\)/);
    f = await ui.press(['d'], /past the damage: record at byte 20,976/);
    assert.match(selected(f), /^>\+ +20976 state/);
    ui.close();
  });

  test('detail of the damaged record: the frame in hex with the stored CRC highlighted, and the JSON', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    let f = await ui.press(['d', KEYS.enter, 'd', KEYS.enter], /› @20808/);
    assert.match(f, /! good data ends here \(crc-mismatch\)/);
    assert.match(f, /length word 0\.\.7: N=157 P=3/);
    assert.match(f, /crc 10\.\.14/);
    assert.match(f, /damaged: stored crc 0x054cadfb, computed 0xe20267a3 over the data/);
    assert.match(f, /^00005148 +9d 00 00 00 00 00 00 83 08 02 10 fb db b2 2a 1a  \|\.\.\.\.\.\.\.\.\.\.\.\.\.\.\*\.\|$/m);
    // The bit flip shows in the value: "fixpure" where etcd wrote "fixture".
    assert.match(f, /al-doctor fixpur/);
    f = await ui.press([KEYS.pageDown], /"state": "damaged"/);
    assert.match(f, /"index": "106"/);
    f = await ui.press([KEYS.pageDown], /"op": "put"/);
    ui.close();
  });

  test('the highlighted bytes are the stored CRC: carets under them, also without colour', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    const lines = (await ui.press(['d', KEYS.enter, 'd', KEYS.enter], /^00005148/m)).split('\n');
    const at = lines.findIndex((l) => l.startsWith('00005148'));
    assert.ok(at > 0);
    // The CRC field (tag 0x10 and its varint) is bytes 10..14 of the frame.
    const hexRow = lines[at]!;
    const carets = lines[at + 1]!;
    const marked = [...carets].flatMap((c, i) => (c === '^' ? [i] : []));
    assert.equal(marked.length, 10);
    const under = marked.filter((_, k) => k % 2 === 0).map((i) => hexRow.slice(i, i + 2));
    assert.deepEqual(under, ['10', 'fb', 'db', 'b2', '2a']);
    ui.close();
  });

  test('/ searches key text, entry index and byte offset; n finds the next match', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    await ui.press([KEYS.enter, KEYS.enter], /running CRC/);
    let f = await ui.press(['/', ...ui.type('fixture/key/00005')], /^\/fixture\/key\/00005_$/m, 'the prompt echoes what is typed');
    f = await ui.press([KEYS.enter], sel(/PUT \/fixture\/key\/000050 /));
    f = await ui.press(['n'], sel(/PUT \/fixture\/key\/000051 /));
    f = await ui.press(['/', ...ui.type('150'), KEYS.enter], sel(/ 150 /));
    assert.match(selected(f), /^>\+ +\d+ entry +150 +2 Normal/, 'index 150 lies past the damage');
    f = await ui.press(['/', ...ui.type('0x5148'), KEYS.enter], sel(/^>! +20808 /));
    f = await ui.press(['/', ...ui.type('no-such-key'), KEYS.enter], /not found: no-such-key/);
    ui.close();
  });

  test('keys typed faster than the screen redraws all reach the prompt: /, the query, Enter, n in one burst', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    // Enter twice, /, 17 characters, Enter, n: written back to back, no frame in between.
    const burst = [KEYS.enter, KEYS.enter, '/', ...ui.type('fixture/key/00007'), KEYS.enter, 'n'];
    const f = await ui.press(burst, sel(/PUT \/fixture\/key\/000071 /), 'the search ran on the whole query, and n on it');
    assert.doesNotMatch(f, /filter type:|not found/);
    // and a filter typed in one burst
    const g = await ui.press(['f', ...ui.type('state'), KEYS.enter], /filter state: 213 record\(s\)/);
    assert.ok(g.split('\n').filter((l) => /^[> ][ !+] +\d+ /.test(l)).every((l) => / state /.test(l)));
    ui.close();
  });

  test('f filters by request or record type; an empty filter clears it; Esc cancels a prompt', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    await ui.press([KEYS.enter, KEYS.enter], /running CRC/);
    let f = await ui.press(['f', ...ui.type('state'), KEYS.enter], /filter state: 213 record\(s\)/);
    const rows = f.split('\n').filter((l) => /^[> ][ !+] +\d+ /.test(l));
    assert.equal(rows.length, 19);
    assert.ok(rows.every((l) => / state /.test(l)), 'only state records are listed');
    f = await ui.press(['f', '\u007F', '\u007F', '\u007F', '\u007F', '\u007F'], /^filter type: _$/m);
    f = await ui.press([KEYS.enter], /filter cleared/);
    f = await ui.press(['f', ...ui.type('put')], /^filter type: put_$/m);
    f = await ui.press([KEYS.esc], (x) => !/filter type:/.test(x));
    assert.match(f, /overview › segments › 0000/, 'Esc closed the prompt, not the screen');
    ui.close();
  });

  test('? shows the keys; any key closes the help', async () => {
    const ui = open(analysis);
    await ui.until(/Verdict:/);
    await ui.press(['?'], /next match +d +next damage/);
    await ui.press(['x'], /Verdict:/);
    ui.close();
  });
});

describe('explore on healthy and multi-segment fixtures', () => {
  test('v35-workload: HEALTHY, and d says there is no damage', async () => {
    const fx = await loadFixture('v35-workload');
    try {
      const ui = open(inspectPath(fx.dir, { indexRecords: true }));
      const f = await ui.until(/Verdict: HEALTHY \(exit 0\)/);
      assert.match(f, /Damage \(none\)/);
      await ui.press([KEYS.enter, 'd'], /no damaged segment/);
      await ui.press([KEYS.enter, 'd'], /no damage in this segment/);
      ui.close();
    } finally {
      fx.cleanup();
    }
  });

  test('v35-k8s: the record list shows a Pod\'s kind and name, the detail its decoded object', async () => {
    const fx = await loadFixture('v35-k8s');
    try {
      const ui = open(inspectPath(fx.dir, { indexRecords: true }));
      await ui.until(/Verdict:/);
      await ui.press([KEYS.enter, KEYS.enter], /running CRC/);
      await ui.press(['/', ...ui.type('/registry/pods/'), KEYS.enter], sel(/\[Pod namespaceValue\/nameValue\]/));
      const f = await ui.press([KEYS.enter], /put Pod namespaceValue\/nameValue/);
      assert.match(f, /apiVersion v1, encoding protobuf, uid uidValue/);
      ui.close();
    } finally {
      fx.cleanup();
    }
  });

  test('v35-segments: two segments, the second read with the first one\'s CRC; a 1 MB value shown in part', async () => {
    const fx = await loadFixture('v35-segments');
    try {
      const ui = open(inspectPath(fx.dir, { indexRecords: true }));
      await ui.until(/Verdict:/);
      let f = await ui.press([KEYS.enter], /^> +0 +61\.1 MB 1\.\.106 +214 +exact +\[#{12}\]/m);
      assert.match(f, /^ +1 +61\.0 MB 107\.\.137 +65 +zero-filled/m);
      f = await ui.press(['j', KEYS.enter], /65 records  zero-filled at 6,296/);
      assert.match(selected(f), /running CRC 0x[0-9a-f]{8}/);
      await ui.press([KEYS.esc], (x: string) => /overview › segments$/.test(x.split('\n')[0]!.trimEnd()));
      f = await ui.press(['k', KEYS.enter], /214 records  exact/);
      f = await ui.press(['/', ...ui.type('filler'), KEYS.enter], sel(/PUT \/fixture\/filler\/\d+ \(976\.6 KB\)/));
      f = await ui.press([KEYS.enter], /Frame at byte [\d,]+, 1,000,072 bytes/);
      // Page down one page at a time (each waits for the page to change) until the cut shows.
      let seen = f;
      for (let i = 0; i < 4 && !/bytes not shown/.test(seen); i++) {
        const before = seen;
        seen = await ui.press([KEYS.pageDown], (x) => x !== before);
      }
      assert.match(seen, /… 999,248 bytes not shown …/, 'a large frame shows its head and tail');
      ui.close();
    } finally {
      fx.cleanup();
    }
  });
});
