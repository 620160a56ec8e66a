import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// dist/test/format/proto → repo root
const repo = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..');

it('descriptor.generated.ts and specs.generated.ts are up to date with the .proto files and spec-derive.ts (npm run gen:proto)', () => {
  const r = spawnSync(process.execPath, [join(repo, 'scripts', 'gen-proto.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
