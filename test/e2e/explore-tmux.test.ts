// The real CLI in a real terminal: `node bin/wal-doctor.js explore <dir>` in a detached tmux
// session of 80x24 (on a private tmux socket), driven with send-keys and read with capture-pane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN } from '../support/cli.js';
import { loadFixture } from '../support/fixtures.js';

const SOCKET = `wal-doctor-explore-${process.pid}`;
const SESSION = 'explore';

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = () => tmux('capture-pane', '-p', '-t', SESSION);

/** Poll the pane until `re` matches (the CLI first analyses the dir, then ink draws). */
async function waitFor(re: RegExp, what: string, timeoutMs = 8000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    last = screen();
    if (re.test(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: ${re} not on screen after ${timeoutMs} ms; the screen was:\n${last}`);
}

async function keys(k: string, re: RegExp, what: string): Promise<string> {
  tmux('send-keys', '-t', SESSION, k);
  return waitFor(re, what);
}

test('explore in tmux at 80x24: overview → segments → records → d → detail of the damaged record → q', async (t) => {
  if (spawnSync('tmux', ['-V']).error) {
    if (process.env['CI'] === 'true') assert.fail('tmux is missing (CI=true): this test needs it');
    t.skip('tmux not installed: the end-to-end explore test was NOT run');
    return;
  }
  const fx = await loadFixture('v35-bitflip-mid');
  try {
    tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', `NO_COLOR=1 ${process.execPath} ${BIN} explore ${fx.dir}; echo "explore exited $?"; sleep 30`);
    let s = await waitFor(/Verdict: NEEDS REBUILD \(exit 2\)/, 'overview');
    const lines = s.split('\n');
    assert.ok(lines.every((l) => l.length <= 80));
    assert.match(s, /HardState term 2 vote 28b48bfb11dd2ab9 commit 105/);
    assert.match(s, /Enter segments +d first damage/);
    // The verdict and the next step, whole, on the first 80x24 screen.
    const flat = s.replace(/\s+/g, ' ');
    assert.match(flat, /Verdict: NEEDS REBUILD \(exit 2\) — WAL damaged at member\/wal\/0{16}-0{16}\.wal byte 20808; the usable log ends at index 105 but the db has applied up to 213: truncating alone would lose writes Next step: wal-doctor repair --allow-entry-loss --bridge \S+ \(single member: keeps everything the db holds\); or rebuild from the db: wal-doctor rebuild --from \S+ --out <new-dir> data-dir/);

    s = await keys('Enter', /overview › segments\s/, 'segments');
    assert.match(s, /^> +0 +61\.0 MB 1\.\.105 +213 +crc-mismatch +\[#\.{11}\] 20,808/m);
    assert.match(s, /^0{16}-0{16}\.wal  213 records \+ ! 1 damaged \+ 215 past it/m);

    s = await keys('Enter', /running CRC 0x00000000/, 'records');
    assert.match(s, /^>  +0 crc/m);
    assert.match(s, /^213 records \+ ! 1 damaged \+ 215 past it  crc-mismatch at 20,808/m, 'the same count as on the segments screen');
    s = await keys('d', /good data ends here: crc-mismatch at byte 20,808/, 'jump to damage');
    assert.match(s, /^>! +20808 entry +106 +2 Normal +PUT \/fixture\/key\/000101 \(100 B\)/m);

    s = await keys('Enter', /damaged: stored crc 0x054cadfb, computed 0xe20267a3/, 'detail');
    assert.match(s, /^00005148 9d 00 00 00 00 00 00 83 08 02 10 fb db b2 2a 1a/m);
    assert.match(s, /^ {8} {30} \^\^ \^\^ \^\^ \^\^ \^\^$/m, 'carets under the stored CRC');

    s = await keys('Escape', /^>! +20808 /m, 'back to the records');
    tmux('send-keys', '-t', SESSION, '/');
    await waitFor(/^\/_$/m, 'search prompt');
    tmux('send-keys', '-t', SESSION, '-l', 'fixture/key/000042');
    // Enter only once the typed text is drawn: sent at once, under load it can reach the TUI in
    // the same read as the text, and then it is not a key press of its own.
    await waitFor(/^\/fixture\/key\/000042_$/m, 'search text typed');
    s = await keys('Enter', /^> +\d+ entry +\d+ +2 Normal +PUT \/fixture\/key\/000042 /m, 'search');

    s = await keys('q', /explore exited 0/, 'quit');
  } finally {
    try {
      tmux('kill-session', '-t', SESSION);
    } catch {
      // already gone
    }
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    fx.cleanup();
  }
});
