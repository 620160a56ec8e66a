// Pins that the project reads protobuf in one place: src/format/proto/wire.ts. The four hand-made
// walkers it replaced (protobufjs Reader loops in format/wal/record.ts, format/proto/messages.ts,
// export/k8s.ts and tui/segment-rows.ts) each had their own idea of failure; none may come back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../support/fixtures.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const files = sources(join(REPO_ROOT, 'src')).map((p) => ({ path: relative(REPO_ROOT, p), text: readFileSync(p, 'utf8') }));

describe('one protobuf wire reader', () => {
  it('protobufjs is imported only where the schema is loaded, its tables derived and messages encoded', () => {
    const importers = files.filter((f) => /from 'protobufjs(\/[^']*)?'/.test(f.text)).map((f) => f.path);
    assert.deepEqual(importers, ['src/format/proto/descriptor.generated.ts', 'src/format/proto/encode.ts', 'src/format/proto/root.ts', 'src/format/proto/spec-derive.ts']);
  });

  it('the read-only commands never load protobufjs (their start-up; the encoders are for repair and rebuild)', () => {
    // Modules a file loads when it runs: static imports that are not `import type`, and dynamic ones.
    const loads = (path: string): string[] => {
      const text = files.find((f) => f.path === path)?.text;
      assert.ok(text !== undefined, path);
      const out: string[] = [];
      for (const m of text.matchAll(/^import (?!type\b)[^;]*?from '([^']+)';|^export [^;]*?from '([^']+)';|\bimport\('([^']+)'\)/gms)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (/^export type\b/.test(m[0])) continue;
        out.push(spec.startsWith('.') ? join(path, '..', spec).replace(/\.js$/, '.ts') : spec);
      }
      return out;
    };
    for (const action of ['verify-action', 'inspect-action', 'export-action', 'diff-action']) {
      const start = `src/cli/commands/${action}.ts`;
      const seen = new Set<string>([start]);
      const queue = [start];
      while (queue.length > 0) {
        const p = queue.pop()!;
        for (const dep of loads(p)) {
          assert.doesNotMatch(dep, /^protobufjs/, `${start} loads protobufjs through ${p}`);
          const file = dep.startsWith('src/') ? (files.some((f) => f.path === dep) ? dep : dep.replace(/\.ts$/, '.tsx')) : undefined;
          if (file !== undefined && !seen.has(file)) {
            seen.add(file);
            queue.push(file);
          }
        }
      }
      assert.ok(seen.has('src/format/proto/schema.ts'), `${start} decodes through the schema's tables`);
    }
  });

  it("nothing decodes with protobufjs' Reader or a type's generated decode", () => {
    for (const f of files) {
      assert.doesNotMatch(f.text, /\bReader\.create\(|protobuf\.Reader\b|\bimport\s*\{[^}]*\bReader\b[^}]*\}\s*from 'protobufjs/, f.path);
      assert.doesNotMatch(f.text, /\.skipType\(|\b\w*[tT]ype\.decode\(|\.decodeDelimited\(|lookupType\([^)]*\)\.decode\(/, f.path);
    }
  });

  it('no varint decoding outside wire.ts (the former walkers each had one)', () => {
    for (const f of files) {
      if (f.path === 'src/format/proto/wire.ts') continue;
      assert.doesNotMatch(f.text, /&\s*0x7f\)\s*<</i, `${f.path} shifts varint groups itself`);
      // (Go's runtime panics, "index out of range [7] with length N", are etcd's texts, not protobufjs')
      assert.doesNotMatch(f.text, /classifyReaderError|index out of range(?! \[)|invalid wire type/, `${f.path} classifies protobufjs' error texts`);
    }
  });

  it('the consumers go through the shared reader or the decoders built on it', () => {
    const uses = (path: string, what: RegExp) => assert.match(files.find((f) => f.path === path)?.text ?? '', what, path);
    uses('src/format/wal/record.ts', /from '\.\.\/proto\/wire\.js'/);
    uses('src/format/proto/messages.ts', /from '\.\/wire\.js'/);
    uses('src/format/proto/unmarshal.ts', /from '\.\/wire\.js'/);
    uses('src/format/payload/k8s.ts', /from '\.\.\/proto\/wire\.js'/);
    uses('src/format/payload/payload.ts', /etcdAppliesEntryData/);
    uses('src/tui/segment-rows.ts', /recordFieldSpans/);
  });
});
