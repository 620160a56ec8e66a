// Kubernetes Secrets written without encryption at rest: export masks their values by default, says
// so (in the line and on stderr), and --show-secrets prints them. On v35-k8s with its (encrypted)
// Secret rewritten as plaintext, the WAL's CRC chain re-made so every reader takes it as etcd's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskSecretValues } from '../../../src/format/payload/k8s.js';
import { describeEntry } from '../../../src/format/payload/payload.js';
import { ExportLine } from '../../../src/export/ndjson-schema.js';
import type { EntryPayloadJson } from '../../../src/format/payload/payload-schema.js';
import { ReadWindow, bytesSource } from '../../../src/format/bytes.js';
import { decodeSegment } from '../../../src/format/wal/decoder.js';
import { RecordEncoder } from '../../../src/format/wal/encoder.js';
import { RecordType } from '../../../src/format/wal/record.js';
import { runCli } from '../../support/cli.js';
import { loadFixture, type LoadedFixture } from '../../support/fixtures.js';

const text = (t: string) => ({ encoding: 'utf8' as const, text: t, bytes: Buffer.byteLength(t) });

describe('maskSecretValues', () => {
  it('masks plaintext Secret puts, in txns and value compares too; leaves encrypted ones and other resources', () => {
    const p = {
      kind: 'v3',
      request: {
        op: 'txn',
        compare: [{ result: 'EQUAL', target: 'VALUE', key: text('/registry/secrets/ns/a'), value: text('k8s\u0000old') }],
        success: [
          { op: 'put', key: text('/registry/secrets/ns/a'), value: text('k8s\u0000\n\u000bv1\u0012\u0006Secret password=hunter2') },
          { op: 'put', key: text('/registry/secrets/ns/b'), value: text('k8s:enc:aescbc:v1:key1:xxxx') },
          { op: 'put', key: text('/registry/configmaps/ns/c'), value: text('{"data":{"x":"y"}}') },
        ],
        failure: [{ op: 'put', key: text('/registry/secrets/ns/a'), value: { encoding: 'base64', base64: Buffer.from('k8s\0\xff').toString('base64'), bytes: 6 } }],
      },
    } as unknown as EntryPayloadJson;
    assert.equal(maskSecretValues(p), 3);
    const req = (p as { request: { compare: { value: unknown }[]; success: { value: unknown }[]; failure: { value: unknown }[] } }).request;
    assert.deepEqual(req.compare[0]!.value, { encoding: 'utf8', text: '<masked: 7 bytes>', bytes: 7, masked: true });
    const n = Buffer.byteLength('k8s\u0000\n\u000bv1\u0012\u0006Secret password=hunter2');
    assert.deepEqual(req.success[0]!.value, { encoding: 'utf8', text: `<masked: ${n} bytes>`, bytes: n, masked: true });
    assert.equal((req.success[1]!.value as { text: string }).text, 'k8s:enc:aescbc:v1:key1:xxxx', 'ciphertext is left as it is');
    assert.equal((req.success[2]!.value as { text: string }).text, '{"data":{"x":"y"}}');
    assert.equal((req.failure[0]!.value as { masked?: boolean }).masked, true);
    assert.equal(maskSecretValues(p), 0, 'masking twice changes nothing more');
  });

  it('a put outside the registry prefix is not touched', () => {
    const p = describeEntry({ index: 1n, term: 1n, type: 0, data: undefined } as never);
    assert.equal(maskSecretValues(p), 0);
  });
});

/** v35-k8s's encrypted Secret value replaced, byte for byte in length, by a plaintext one; the CRC chain re-made. */
function plaintextSecret(dataDir: string, secret: string): void {
  const walDir = join(dataDir, 'member', 'wal');
  const segment = readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort()[0]!;
  const path = join(walDir, segment);
  const bytes = readFileSync(path);
  const enc = new RecordEncoder(0);
  const out = Buffer.alloc(bytes.length);
  let o = 0;
  let replaced = 0;
  for (const ev of decodeSegment(new ReadWindow(bytesSource(bytes)), { crc: 0, salvage: false })) {
    if (ev.kind !== 'record') continue;
    const { type, data } = ev.record;
    let rec: Uint8Array;
    if (type === RecordType.crc) rec = enc.crcRecord();
    else {
      let d = Buffer.from(data ?? new Uint8Array(0));
      const at = d.indexOf('k8s:enc:aescbc:v1:key1:');
      if (type === RecordType.entry && at >= 0 && d.includes('/registry/secrets/')) {
        d = Buffer.from(d);
        const len = 87; // the value's length in the fixture
        const plain = Buffer.from(secret.padEnd(len, ' '));
        assert.equal(plain.length, len);
        plain.copy(d, at);
        replaced++;
      }
      rec = enc.record(type, d);
    }
    out.set(rec, o);
    o += rec.length;
  }
  assert.equal(replaced, 1);
  writeFileSync(path, out);
}

describe('export on a WAL holding a plaintext Secret', () => {
  let fx: LoadedFixture;
  const SECRET = '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s1"},"data":{"pw":"aHVudGVyMg=="}}';
  before(async () => {
    fx = await loadFixture('v35-k8s');
    plaintextSecret(fx.dir, SECRET.slice(0, 87));
  });
  after(() => fx.cleanup());

  it('masks it by default, with --k8s or without, and says so on stderr', () => {
    for (const extra of [[], ['--k8s']]) {
      const r = runCli(['export', ...extra, '--key-prefix', '/registry/secrets/', fx.dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /aHVudGVyMg|"pw"/, 'the secret does not appear');
      const lines = r.stdout.trim().split('\n').map((l) => ExportLine.parse(JSON.parse(l)));
      assert.equal(lines.length, 1);
      const req = (lines[0]!.payload as { request: { value: { text: string; masked?: boolean } } }).request;
      assert.deepEqual([req.value.text, req.value.masked], ['<masked: 87 bytes>', true]);
      assert.match(r.stderr, /^wal-doctor: masked 1 Kubernetes Secret value stored without encryption at rest \("masked": true\); --show-secrets prints them\n$/);
    }
  });

  it('--show-secrets prints it, and says nothing', () => {
    const r = runCli(['export', '--show-secrets', '--key-prefix', '/registry/secrets/', fx.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /aHVudGVyMg==/);
    assert.equal(r.stderr, '');
  });
});
