// The README shows what the tool prints now. Every example block in README.md (marked
// `<!-- example: <id> -->`, defined in examples.ts) is run on real fixtures; its output, with the
// temp dir and times normalised, must equal test/readme/golden/<id>.txt, and the README block must
// equal the golden file. After a deliberate change of output:
//   WAL_DOCTOR_UPDATE_GOLDEN=1 node scripts/run-tests.mjs readme
// rewrites the golden files and the README blocks (review the diff, then commit both).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { App } from '../../src/tui/App.js';
import { inspectPath } from '../../src/inspect/analyze.js';
import { FileSource } from '../../src/io/file-source.js';
import { BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { EXAMPLES, type Example, unpack } from './examples.js';

const UPDATE = process.env['WAL_DOCTOR_UPDATE_GOLDEN'] === '1';
const README = join(REPO_ROOT, 'README.md');
const GOLDEN = join(REPO_ROOT, 'test', 'readme', 'golden');

/** Temp paths out, times fixed, trailing blanks cut: what the README can show. */
function normalise(text: string, work: string): string {
  return text
    .split(`${work}/`)
    .join('')
    .split(work)
    .join('.')
    .replace(/\d{8}T\d{6}Z/g, '<time>')
    .replace(/^node v\d+\.\d+\.\d+$/m, 'node <version>')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '\n');
}

/** `<!-- example: id -->` then a fenced block: where each README example sits. */
function readmeBlocks(text: string): Map<string, { start: number; end: number; body: string }> {
  const out = new Map<string, { start: number; end: number; body: string }>();
  const re = /<!-- example: ([\w-]+) -->\n```[a-z]*\n([\s\S]*?)```\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const bodyStart = m.index + m[0].indexOf('\n```') + 1;
    const start = text.indexOf('\n', bodyStart) + 1;
    out.set(m[1]!, { start, end: start + m[2]!.length, body: m[2]! });
  }
  return out;
}

async function runExample(ex: Example, work: string, shim: string): Promise<string> {
  if (ex.explore) {
    const dir = join(work, ex.explore.fixture);
    unpack(work, ex.explore.fixture, ex.explore.fixture);
    const analysis = inspectPath(dir, { indexRecords: true });
    // The path as a reader would type it (the header and the next step print it).
    analysis.report.path = ex.explore.fixture;
    const opened: FileSource[] = [];
    const app = render(<App analysis={analysis} color={false} size={{ width: 80, height: 24 }} openSegment={(i) => { const s = new FileSource(analysis.layout.segments[i]!); opened.push(s); return s; }} />);
    try {
      const frame = () => app.lastFrame() ?? '';
      const wait = async (re: RegExp) => {
        const deadline = Date.now() + 15_000;
        while (!re.test(frame())) {
          if (Date.now() > deadline) assert.fail(`${ex.id}: ${re} not on screen:\n${frame()}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await wait(/Verdict:/);
      for (const k of ex.explore.keys) app.stdin.write(k);
      await wait(ex.explore.until);
      return frame() + '\n';
    } finally {
      app.unmount();
      for (const s of opened) s.close();
    }
  }
  for (const [fx, as] of ex.fixtures) unpack(work, fx, as);
  let out = '';
  ex.commands.forEach((cmd, i) => {
    const r = spawnSync('bash', ['-c', cmd], { cwd: work, encoding: 'utf8', env: { ...process.env, PATH: `${shim}:${process.env['PATH']}`, NO_COLOR: '1', COLUMNS: '80', TZ: 'UTC' }, maxBuffer: 64 << 20 });
    let text = r.stdout + r.stderr;
    if (ex.tail !== undefined && i === ex.commands.length - 1) text = text.trimEnd().split('\n').slice(-ex.tail).join('\n') + '\n';
    out += `$ ${cmd}\n${text}`;
    if (i < ex.commands.length - 1) out += '\n';
  });
  return out;
}

describe('README examples print what the tool prints now', () => {
  let root: string;
  let shim: string;
  let readme: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'wal-doctor-readme-'));
    shim = join(root, 'bin');
    mkdirSync(shim);
    writeFileSync(join(shim, 'wal-doctor'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(shim, 'wal-doctor'), 0o755);
    readme = readFileSync(README, 'utf8');
  });
  after(() => {
    if (UPDATE) writeFileSync(README, readme);
    rmSync(root, { recursive: true, force: true });
  });

  it('every marked README block has an example, and every example is in the README', () => {
    const ids = [...readmeBlocks(readme).keys()].sort();
    assert.deepEqual(ids, EXAMPLES.map((e) => e.id).sort());
  });

  for (const ex of EXAMPLES) {
    it(ex.id, async (t) => {
      for (const prog of ex.needs ?? []) {
        if (spawnSync(prog, ['--version']).error) {
          if (process.env['CI'] === 'true') assert.fail(`${prog} is missing (CI=true): the README example ${ex.id} needs it`);
          t.skip(`${prog} is not installed: the README example ${ex.id} was NOT checked`);
          return;
        }
      }
      const work = join(root, ex.id);
      mkdirSync(work);
      const got = normalise(await runExample(ex, work, shim), work);
      const goldenPath = join(GOLDEN, `${ex.id}.txt`);
      if (UPDATE) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(goldenPath, got);
        const b = readmeBlocks(readme).get(ex.id);
        if (b) readme = readme.slice(0, b.start) + got + readme.slice(b.end);
        return;
      }
      assert.ok(existsSync(goldenPath), `${goldenPath} is missing: WAL_DOCTOR_UPDATE_GOLDEN=1 node scripts/run-tests.mjs readme`);
      assert.equal(got, readFileSync(goldenPath, 'utf8'), `${ex.id}: the tool prints something else now (WAL_DOCTOR_UPDATE_GOLDEN=1 node scripts/run-tests.mjs readme, then review)`);
      assert.equal(readmeBlocks(readme).get(ex.id)?.body, got, `README example ${ex.id} differs from its golden file (WAL_DOCTOR_UPDATE_GOLDEN=1 node scripts/run-tests.mjs readme)`);
    });
  }
});
