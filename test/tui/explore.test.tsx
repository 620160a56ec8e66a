// The explore screens on real fixtures, driven by keys through ink-testing-library at 80x24.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { App } from '../../src/tui/App.js';
import { inspectPath, type Analysis } from '../../src/inspect/analyze.js';
import { FileSource } from '../../src/io/file-source.js';
import { type LoadedFixture, loadFixture } from '../support/fixtures.js';

const KEYS = { enter: '\r', esc: '\u001B', down: '\u001B[B', up: '\u001B[A', pageDown: '\u001B[6~' };
const tick = () => new Promise((r) => setTimeout(r, 30));

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
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      app.stdin.write(k);
      await tick();
    }
    return app.lastFrame() ?? '';
  };
  const type = (text: string) => press(...text.split(''));
  const close = () => {
    app.unmount();
    for (const s of opened) s.close();
  };
  return { app, press, type, close, frame: () => app.lastFrame() ?? '' };
}

/** The line the cursor is on (marked `>` in the first column). */
const selected = (frame: string) => frame.split('\n').find((l) => l.startsWith('>')) ?? '';

describe('explore on v35-bitflip-mid (CRC mismatch at byte 20808, valid records after it)', () => {
  let fx: LoadedFixture;
  let analysis: Analysis;
  before(async () => {
    fx = await loadFixture('v35-bitflip-mid');
    analysis = inspectPath(fx.dir);
  });
  after(() => fx.cleanup());

  test('overview: verdict, damage, HardState, db index, in 80x24', async () => {
    const ui = open(analysis);
    await tick();
    const f = ui.frame();
    const lines = f.split('\n');
    assert.ok(lines.length <= 23, `frame has ${lines.length} lines`);
    assert.ok(lines.every((l) => l.length <= 80), 'no line is wider than 80 columns');
    assert.match(f, /Verdict: NEEDS REBUILD \(exit 2\)/);
    assert.match(f, /ERROR +member\/wal\/0000000000000000-0000000000000000\.wal at byte 20808 \(record\n +213\): crc mismatch, expected 0x054cadfb computed 0xe20267a3/, 'damage is folded, not cut');
    assert.match(f, /consistent index 213, term 2, revision 207/);
    assert.match(f, /HardState term 2 vote 28b48bfb11dd2ab9 commit 105 \(segment 0, byte 20,776\)/);
    assert.match(f, /good data ends at byte 20,808 of segment 0/);
    assert.match(f, /Enter segments/);
    ui.close();
  });

  test('Enter → segments, Enter → records; j/k, PgDn, G, g move the cursor; Esc goes back', async () => {
    const ui = open(analysis);
    await tick();
    let f = await ui.press(KEYS.enter);
    assert.match(selected(f), /^> +0 +61\.0 MB 1\.\.105 +213 +crc-mismatch +\[#\.{11}\] 20,808$/);
    f = await ui.press(KEYS.enter);
    assert.match(f, /overview › segments › 0000000000000000-0000000000000000\.wal/);
    assert.match(selected(f), /^> +0 crc +running CRC 0x00000000/);
    f = await ui.press('j', 'j', 'j');
    assert.match(selected(f), /^> +80 entry +1 +1 ConfChange CONF_CHANGE AddNode 28b48bfb11dd/);
    f = await ui.press(KEYS.up);
    assert.match(selected(f), /^> +56 snapshot/);
    f = await ui.press(KEYS.pageDown);
    assert.equal(f.split('\n').filter((l) => /^[> ][ !+] +\d+ /.test(l)).length, 19, 'a page of 19 rows');
    f = await ui.press('G');
    assert.match(selected(f), /^>\+/, 'the last row is a record found past the damage');
    assert.match(f, /429 records  crc-mismatch at 20,808/);
    f = await ui.press('g');
    assert.match(selected(f), /^> +0 crc/);
    f = await ui.press(KEYS.esc);
    assert.match(f, /overview › segments\s/);
    assert.match(selected(f), /^> +0 /, 'the segments screen kept its cursor');
    f = await ui.press(KEYS.esc);
    assert.match(f, /Verdict: NEEDS REBUILD/);
    ui.close();
  });

  test('d jumps to the frame where good data ends, then to the records past it', async () => {
    const ui = open(analysis);
    await tick();
    let f = await ui.press('d'); // overview: straight to the first damaged segment
    assert.match(selected(f), /crc-mismatch/);
    f = await ui.press(KEYS.enter, 'd');
    assert.match(selected(f), /^>! +20808 entry +106 +2 Normal +PUT \/fixture\/key\/000101 \(100 B\)/);
    assert.match(f, /good data ends here: crc-mismatch at byte 20,808/);
    f = await ui.press('d');
    assert.match(selected(f), /^>\+ +20976 state/);
    assert.match(f, /past the damage: record at byte 20,976/);
    ui.close();
  });

  test('detail of the damaged record: the frame in hex with the stored CRC highlighted, and the JSON', async () => {
    const ui = open(analysis);
    await tick();
    let f = await ui.press('d', KEYS.enter, 'd', KEYS.enter);
    assert.match(f, /› @20808/);
    assert.match(f, /! good data ends here \(crc-mismatch\)/);
    assert.match(f, /length word 0\.\.7: N=157 P=3/);
    assert.match(f, /crc 10\.\.14/);
    assert.match(f, /damaged: stored crc 0x054cadfb, computed 0xe20267a3 over the data/);
    assert.match(f, /^00005148 +9d 00 00 00 00 00 00 83 08 02 10 fb db b2 2a 1a  \|\.\.\.\.\.\.\.\.\.\.\.\.\.\.\*\.\|$/m);
    // The bit flip shows in the value: "fixpure" where etcd wrote "fixture".
    assert.match(f, /al-doctor fixpur/);
    f = await ui.press(KEYS.pageDown);
    assert.match(f, /"state": "damaged"/);
    assert.match(f, /"index": "106"/);
    f = await ui.press(KEYS.pageDown);
    assert.match(f, /"op": "put"/);
    ui.close();
  });

  test('the highlighted bytes are the stored CRC: carets under them, also without colour', async () => {
    const ui = open(analysis);
    await tick();
    const lines = (await ui.press('d', KEYS.enter, 'd', KEYS.enter)).split('\n');
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
    await tick();
    await ui.press(KEYS.enter, KEYS.enter, '/');
    let f = await ui.type('fixture/key/00005');
    assert.match(f, /^\/fixture\/key\/00005_$/m, 'the prompt echoes what is typed');
    f = await ui.press(KEYS.enter);
    assert.match(selected(f), /PUT \/fixture\/key\/000050 /);
    f = await ui.press('n');
    assert.match(selected(f), /PUT \/fixture\/key\/000051 /);
    await ui.press('/');
    await ui.type('150');
    f = await ui.press(KEYS.enter);
    assert.match(selected(f), /^>\+ +\d+ entry +150 +2 Normal/, 'index 150 lies past the damage');
    await ui.press('/');
    await ui.type('0x5148');
    f = await ui.press(KEYS.enter);
    assert.match(selected(f), /^>! +20808 /);
    await ui.press('/');
    await ui.type('no-such-key');
    f = await ui.press(KEYS.enter);
    assert.match(f, /not found: no-such-key/);
    ui.close();
  });

  test('f filters by request or record type; an empty filter clears it; Esc cancels a prompt', async () => {
    const ui = open(analysis);
    await tick();
    await ui.press(KEYS.enter, KEYS.enter, 'f');
    await ui.type('state');
    let f = await ui.press(KEYS.enter);
    assert.match(f, /filter state: 213 record\(s\)/);
    const rows = f.split('\n').filter((l) => /^[> ][ !+] +\d+ /.test(l));
    assert.equal(rows.length, 19);
    assert.ok(rows.every((l) => / state /.test(l)), 'only state records are listed');
    f = await ui.press('f', '\u007F', '\u007F', '\u007F', '\u007F', '\u007F');
    assert.match(f, /^filter type: _$/m);
    f = await ui.press(KEYS.enter);
    assert.match(f, /filter cleared/);
    await ui.press('f');
    await ui.type('put');
    f = await ui.press(KEYS.esc);
    assert.doesNotMatch(f, /filter type:/);
    assert.match(f, /overview › segments › 0000/, 'Esc closed the prompt, not the screen');
    ui.close();
  });

  test('? shows the keys; any key closes the help', async () => {
    const ui = open(analysis);
    await tick();
    let f = await ui.press('?');
    assert.match(f, /next match +d +next damage/);
    f = await ui.press('x');
    assert.match(f, /Verdict:/);
    ui.close();
  });
});

describe('explore on healthy and multi-segment fixtures', () => {
  test('v35-workload: HEALTHY, and d says there is no damage', async () => {
    const fx = await loadFixture('v35-workload');
    try {
      const ui = open(inspectPath(fx.dir));
      await tick();
      let f = ui.frame();
      assert.match(f, /Verdict: HEALTHY \(exit 0\)/);
      assert.match(f, /Damage \(none\)/);
      f = await ui.press(KEYS.enter, 'd');
      assert.match(f, /no damaged segment/);
      f = await ui.press(KEYS.enter, 'd');
      assert.match(f, /no damage in this segment/);
      ui.close();
    } finally {
      fx.cleanup();
    }
  });

  test('v35-k8s: the record list shows a Pod\'s kind and name, the detail its decoded object', async () => {
    const fx = await loadFixture('v35-k8s');
    try {
      const ui = open(inspectPath(fx.dir));
      await tick();
      let f = await ui.press(KEYS.enter, KEYS.enter, '/');
      await ui.type('/registry/pods/');
      f = await ui.press(KEYS.enter);
      assert.match(selected(f), /\[Pod namespaceValue\/nameValue\]/);
      f = await ui.press(KEYS.enter);
      assert.match(f, /put Pod namespaceValue\/nameValue/);
      assert.match(f, /apiVersion v1, encoding protobuf, uid uidValue/);
      ui.close();
    } finally {
      fx.cleanup();
    }
  });

  test('v35-segments: two segments, the second read with the first one\'s CRC; a 1 MB value shown in part', async () => {
    const fx = await loadFixture('v35-segments');
    try {
      const ui = open(inspectPath(fx.dir));
      await tick();
      let f = await ui.press(KEYS.enter);
      assert.match(f, /^> +0 +61\.1 MB 1\.\.106 +214 +exact +\[#{12}\]/m);
      assert.match(f, /^ +1 +61\.0 MB 107\.\.137 +65 +zero-filled/m);
      f = await ui.press('j', KEYS.enter);
      assert.match(selected(f), /running CRC 0x[0-9a-f]{8}/);
      assert.match(f, /65 records  zero-filled at 6,296/);
      f = await ui.press(KEYS.esc, 'k', KEYS.enter, '/');
      await ui.type('filler');
      f = await ui.press(KEYS.enter);
      assert.match(selected(f), /PUT \/fixture\/filler\/\d+ \(976\.6 KB\)/);
      f = await ui.press(KEYS.enter);
      assert.match(f, /Frame at byte [\d,]+, 1,000,072 bytes/);
      let seen = '';
      for (let i = 0; i < 4 && !/bytes not shown/.test(seen); i++) seen = await ui.press(KEYS.pageDown);
      assert.match(seen, /… 999,248 bytes not shown …/, 'a large frame shows its head and tail');
      ui.close();
    } finally {
      fx.cleanup();
    }
  });
});
