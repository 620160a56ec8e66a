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
  it('protobufjs is imported only where the schema is loaded and messages are encoded', () => {
    const importers = files.filter((f) => /from 'protobufjs(\/[^']*)?'/.test(f.text)).map((f) => f.path);
    assert.deepEqual(importers, ['src/format/proto/descriptor.generated.ts', 'src/format/proto/messages.ts', 'src/format/proto/schema.ts']);
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
