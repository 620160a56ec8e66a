// The layers, checked on every import in src/: codecs know nothing of files, the analysis nothing of
// the terminal, and commands stay thin. A new import across a layer fails here, with the file named.
//
//   format/   pure codecs                       imports only format/
//   export/   record -> JSON                    format/, errors
//   io/       file access, locks, backups       format/, errors, version
//   inspect/  the one analysis                  format/, export/, io/, errors, version
//   repair/ rebuild/ diff/                      the above and inspect/ (never each other, never cli/)
//   tui/      ink screens                       the above, and cli/render/ (the shared words)
//   cli/      commander and renderers           anything
//
// `process` (exit codes, stdout, argv) belongs to cli/; io/ may read its own test hooks and helper
// environment from process.env, ask who it runs as, signal itself at a crash point and probe a pid.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './support/fixtures.js';

const SRC = join(REPO_ROOT, 'src');

const ALLOWED: Record<string, string[]> = {
  format: ['format'],
  export: ['format', 'errors'],
  io: ['format', 'errors', 'version'],
  inspect: ['format', 'export', 'io', 'errors', 'version'],
  repair: ['format', 'export', 'io', 'inspect', 'errors', 'version'],
  rebuild: ['format', 'export', 'io', 'inspect', 'errors', 'version'],
  diff: ['format', 'export', 'io', 'inspect', 'errors', 'version', 'cli/render'],
  tui: ['format', 'export', 'io', 'inspect', 'repair', 'errors', 'version', 'cli/render'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/** The layer a src path belongs to: its top directory (cli/render apart), or a top-level file's name. */
function layerOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  if (parts[0] === 'cli' && parts[1] === 'render') return 'cli/render';
  return parts.length === 1 ? (parts[0] as string).replace(/\.(js|tsx?)$/, '') : (parts[0] as string);
}

describe('architecture', () => {
  const files = sources(SRC);

  it('every import stays within what its layer may use', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = layerOf(f);
      const allowed = ALLOWED[from];
      if (!allowed) continue; // cli/ and the top-level files
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = layerOf(resolve(dirname(f), m[1] as string));
        if (target !== from && !allowed.includes(target)) bad.push(`${relative(REPO_ROOT, f)} imports ${m[1]} (${from} may not use ${target})`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('process (exit codes, output, argv) is used by cli/ only; io/ only reads its hooks and signals itself', () => {
    const bad: string[] = [];
    for (const f of files) {
      const layer = layerOf(f);
      if (layer === 'cli' || layer === 'cli/render') continue;
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/process\.(\w+)/g)) {
        const what = m[1] as string;
        if (layer === 'io' && ['env', 'kill', 'getuid', 'geteuid', 'umask'].includes(what)) continue;
        if (what === 'pid' || what === 'platform') continue; // identity, not behaviour
        bad.push(`${relative(REPO_ROOT, f)}: process.${what}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
