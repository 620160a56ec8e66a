// exportLineJson must give exactly JSON.stringify's text. Two ways of asking: lines generated at
// random from the zod schema of a line (every field the schema declares, in its order, with strings
// full of what JSON escapes), and every line export makes of every committed real-etcd fixture.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { exportLineJson } from '../../src/export/line-json.js';
import { ExportLine } from '../../src/export/ndjson-schema.js';
import { exportLines, type ExportFilter } from '../../src/export/ndjson.js';
import { maskSecretValues } from '../../src/format/payload/k8s.js';
import { FileSource } from '../../src/io/file-source.js';
import { FIXTURES_DIR, loadFixture } from '../support/fixtures.js';
import { mulberry32 as rng } from '../support/random.js';

// ---------------------------------------------------------------------------------------------
// Seeded random values from a zod schema

// Characters JSON.stringify treats specially, and some it does not that a serializer might.
const SPECIAL = ['"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u00ff', '\u2028', '\u2029', '\ufeff', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', '€', '<', '>', '&', "'", ' '];

interface Gen {
  rand: () => number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

function gen(seed: number): Gen {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  return { rand, int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]! };
}

function randomString(g: Gen): string {
  const kind = g.int(5);
  if (kind === 0) return '';
  if (kind === 1) return Buffer.from(Array.from({ length: g.int(60) }, () => g.int(256))).toString('base64'); // base64-like
  let s = '';
  const n = g.int(kind === 2 ? 400 : 24);
  for (let i = 0; i < n; i++) {
    const r = g.rand();
    if (r < 0.2) s += g.pick(SPECIAL);
    else if (r < 0.25) s += String.fromCharCode(g.int(0x10000)); // any UTF-16 unit, lone surrogates included
    else s += String.fromCharCode(0x20 + g.int(0x5f));
  }
  return s;
}

function randomNumber(g: Gen): number {
  return g.pick([0, 1, 7, 1024, 2 ** 31, 2 ** 53 - 1, 2 ** 53 + 2, 1e21, 1.5, -3, -0, 0.1, 1e-7, NaN, Infinity, -Infinity, g.int(1 << 30)]);
}

function randomJson(g: Gen, depth: number): unknown {
  switch (depth > 2 ? g.int(4) : g.int(6)) {
    case 0: return randomString(g);
    case 1: return randomNumber(g);
    case 2: return g.pick([true, false, null]);
    case 3: return g.rand() < 0.5 ? undefined : randomString(g);
    case 4: return Array.from({ length: g.int(3) }, () => randomJson(g, depth + 1));
    default: return Object.fromEntries(Array.from({ length: g.int(3) }, () => [randomString(g), randomJson(g, depth + 1)]));
  }
}

const OMIT = Symbol('omit');

// Strings the schema gives a pattern: exportLineJson writes them without looking for what JSON
// escapes, so they are drawn from their pattern (a pattern not listed here fails the test).
const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PATTERNED: Record<string, (g: Gen) => string> = {
  '^-?\\d+$': (g) => (g.rand() < 0.2 ? '-' : '') + String(g.int(2 ** 31)) + (g.rand() < 0.3 ? '123456789012' : ''),
  '^\\d+$': (g) => String(g.int(2 ** 31)),
  '^[0-9a-f]{16}$': (g) => Array.from({ length: 16 }, () => g.pick([...HEX])).join(''),
  '^0x[0-9a-f]{8}$': (g) => '0x' + Array.from({ length: 8 }, () => g.pick([...HEX])).join(''),
  '^[A-Za-z0-9+/]*={0,2}$': (g) => Array.from({ length: g.int(90) }, () => g.pick([...B64])).join('') + g.pick(['', '=', '==']),
  '^(?:[A-Z][A-Z_]*|-?\\d+)$': (g) => g.pick(['EQUAL', 'NOT_EQUAL', 'MOD', 'ASCEND', '7', '-1']),
  '^(?:Entry[A-Za-z0-9]+|type--?\\d+)$': (g) => g.pick(['EntryNormal', 'EntryConfChange', 'EntryConfChangeV2', 'type-3', 'type--2']),
  '^<masked: \\d+ bytes>$': (g) => `<masked: ${g.int(1000)} bytes>`,
};

function patterned(def: Def, g: Gen): string | undefined {
  const check = def.checks?.map((c) => (c as unknown as { _zod: { def: { pattern?: RegExp } } })._zod.def.pattern).find((x) => x !== undefined);
  if (check === undefined) return undefined;
  const draw = PATTERNED[check.source];
  if (!draw) throw new Error(`sample: no generator for the string pattern /${check.source}/`);
  const s = draw(g);
  assert.match(s, check);
  return s;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, string>;
  element?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  checks?: unknown[];
}

/** A value of `schema`: objects get their keys in the schema's order; optional keys are left out,
 *  or set to undefined, at random; arrays shrink as they nest (the txn ops are recursive). */
function sample(schema: z.ZodType, g: Gen, depth: number): unknown {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case 'optional': {
      const r = g.rand();
      if (r < 0.35) return OMIT;
      if (r < 0.4) return undefined; // present, undefined: JSON.stringify leaves it out
      return sample(def.innerType!, g, depth);
    }
    case 'nullable':
      return g.rand() < 0.3 ? null : sample(def.innerType!, g, depth);
    case 'string':
      return patterned(def, g) ?? randomString(g);
    case 'number':
      return randomNumber(g);
    case 'boolean':
      return g.rand() < 0.5;
    case 'literal':
      return g.pick(def.values!);
    case 'enum':
      return g.pick(Object.values(def.entries!));
    case 'unknown':
      return randomJson(g, 0);
    case 'array':
      return Array.from({ length: depth > 3 ? 0 : g.int(4) }, () => sample(def.element!, g, depth + 1));
    case 'union':
      return sample(g.pick(def.options!), g, depth);
    case 'object': {
      const out: Record<string, unknown> = {};
      const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
      for (const k of Object.keys(shape)) {
        const v = sample(shape[k]!, g, depth + 1);
        if (v !== OMIT) out[k] = v;
      }
      return out;
    }
    default:
      throw new Error(`sample: no generator for zod type ${def.type}`);
  }
}

describe('exportLineJson', () => {
  it('gives JSON.stringify\'s text for 20000 lines drawn from the schema', () => {
    const g = gen(0x5eed);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      const line = sample(ExportLine, g, 0) as ExportLine;
      const want = JSON.stringify(line);
      const got = exportLineJson(line);
      if (got !== want) assert.fail(`line ${i} differs\n got: ${got}\nwant: ${want}`);
      const p = line.payload;
      const kind = p === undefined ? 'none' : p.kind === 'v3' ? `v3:${p.request.op}` : p.kind;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    // the specialised shapes were drawn often enough to mean something
    for (const k of ['v3:put', 'v3:range', 'v3:delete_range', 'v3:txn', 'v3:none', 'noop', 'conf_change']) assert.ok((kinds.get(k) ?? 0) >= 40, `${k}: ${kinds.get(k)}`);
  });

  it('writes strings as JSON.stringify does, one UTF-16 unit or pair at a time', () => {
    const base: ExportLine = { segment: '', offset: 0, recordNo: 0, recordType: 'entry', crc: '0x00000000' };
    for (let c = 0; c < 0x10000; c++) {
      for (const s of [String.fromCharCode(c), `a${String.fromCharCode(c)}b`, `${String.fromCharCode(c)}\ude00`]) {
        const line = { ...base, summary: s };
        assert.equal(exportLineJson(line), JSON.stringify(line));
      }
    }
  });

  it('keeps the key order of a masked Secret value', () => {
    const key = { encoding: 'utf8' as const, text: '/registry/secrets/default/db', bytes: 28 };
    const value = { encoding: 'base64' as const, base64: 'azhzAAoMCgJ2MRIGU2VjcmV0', bytes: 18, truncated: true as const };
    const line: ExportLine = {
      segment: '0000000000000000-0000000000000000.wal', offset: 8, recordNo: 1, recordType: 'entry', crc: '0x00000001',
      index: '5', term: '2', entryType: 'EntryNormal', dataBytes: 99,
      payload: {
        kind: 'v3',
        request: {
          op: 'txn',
          compare: [{ result: 'EQUAL', target: 'VALUE', key: { ...key }, value: { ...value } }],
          success: [{ op: 'put', key: { ...key }, value: { ...value } }],
          failure: [{ op: 'range', key: { ...key } }],
        },
      },
      summary: 'TXN 1 cmp, 1/1 ops',
    };
    assert.equal(maskSecretValues(line.payload!), 2);
    assert.match(exportLineJson(line), /"masked":true/);
    assert.equal(exportLineJson(line), JSON.stringify(line));
  });

  // Fixtures that between them hold every kind of line export makes: each release's requests,
  // Kubernetes objects, undecodable and unknown entries, snapshots, conf changes, and the records
  // found past damage (damaged, chained). The many-segment ones add nothing but unpacking time.
  const FIXTURES = [
    'v34-workload', 'v35-workload', 'v36-workload', 'v37-workload', 'v34-then-v35', 'v35-k8s', 'v35-snapshots',
    'v35-member-of-3', 'v35-entry-undecodable', 'v35-entry-type-unknown', 'v36-entry-undecodable', 'v35-garbage-tail',
    'v35-bitflip-mid', 'v35-torn-tail', 'v35-zero-length-mid', 'v35-oversized-length', 'v35-etcd-repaired',
  ];
  for (const name of FIXTURES) {
    it(`gives JSON.stringify's text for every line export makes of ${name}`, async (t) => {
      if (!existsSync(join(FIXTURES_DIR, `${name}.tar.gz`))) {
        if (process.env['CI'] === 'true') assert.fail(`fixture ${name} missing`);
        t.skip(`fixture ${name}.tar.gz not present (run fixtures/generate.sh ${name}): not run`);
        return;
      }
      const fx = await loadFixture(name);
      const filters: ExportFilter[] = [{ includeDamaged: true, k8s: true }, { includeDamaged: true, describe: { maxValueBytes: 16 } }];
      let lines = 0;
      try {
        for (const walDir of walDirs(fx.dir)) {
          for (const f of filters) {
            const segments = readdirSync(walDir)
              .filter((n) => n.endsWith('.wal'))
              .sort()
              .map((n) => ({ name: n, source: new FileSource(join(walDir, n)) }));
            try {
              for (const line of exportLines(segments, f)) {
                assert.equal(exportLineJson(line), JSON.stringify(line), `${walDir} ${line.segment} at ${line.offset}`);
                // and its strings keep to the patterns exportLineJson relies on
                ExportLine.parse(line);
                if (line.payload && maskSecretValues(line.payload) > 0) assert.equal(exportLineJson(line), JSON.stringify(line), `${walDir} ${line.segment} at ${line.offset}, masked`);
                lines++;
              }
            } finally {
              for (const s of segments) s.source.close();
            }
          }
        }
      } finally {
        fx.cleanup();
      }
      t.diagnostic(`${lines} lines`);
      assert.ok(lines > 0);
    });
  }
});

function walDirs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isDirectory() && e.name === 'wal') out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}
