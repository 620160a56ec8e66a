// The cluster fixtures for diff (fixtures/<name>.tar.gz with a/, b/, c/ and <name>.cluster-manifest.json,
// made by fixtures/generate.sh from a real 3-member etcd 3.5.30 cluster), and one seeded corruption.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { ReadWindow, bytesSource } from '../../src/format/bytes.js';
import { decodeSegment } from '../../src/format/wal/decoder.js';
import { RecordEncoder } from '../../src/format/wal/encoder.js';
import { RecordType } from '../../src/format/wal/record.js';
import { decodeEntry } from '../../src/format/proto/messages.js';

export interface HashKVRecord {
  revision: number;
  hash: number;
  compact_revision: number;
  member_id: string;
}

export interface ClusterManifest {
  format: 'wal-doctor-cluster-fixture/1';
  name: string;
  etcd_version: string;
  members: { name: string; id: string }[];
  dirs: string[];
  last_revision: number;
  compact_revision: number | null;
  workload: {
    then?: { c_stopped_at_revision: number; first_revision_c_lacks: number; last_revision: number } &
      { old_leader: string; split_at_revision: number; put_to_lone_leader: { key: string; error: string } };
  };
  hashkv: Record<string, HashKVRecord>;
  hashkv_at_common_revision?: Record<string, HashKVRecord>;
  hashkv_final?: Record<string, HashKVRecord>;
  hashkv_rejoined?: Record<string, HashKVRecord>;
  keys: { key: string; present: boolean; create_revision?: number; mod_revision?: number; deleted_revision?: number }[];
}

export interface LoadedCluster {
  root: string;
  dir(name: string): string;
  manifest: ClusterManifest;
  cleanup(): void;
}

export function loadCluster(name: string): LoadedCluster {
  const manifest = JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.cluster-manifest.json`), 'utf8')) as ClusterManifest;
  const root = mkdtempSync(join(tmpdir(), `wal-doctor-${name}-`));
  execFileSync('tar', ['-C', root, '-xzf', join(FIXTURES_DIR, `${name}.tar.gz`)]);
  return { root, manifest, dir: (n) => join(root, n), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Corruption as raft never makes it: in the (single) WAL segment of `dataDir`, the PUT entry at
 * `index` gets one byte of its value changed (its generation digit: same length, same term), and every record from there
 * on is re-encoded with our encoder so the CRC chain stays valid (the segment keeps its size, zero-filled after the last record): etcd would read the log without
 * complaint. Returns the key of that PUT.
 */
export function corruptPutValue(dataDir: string, index: bigint): { key: string; segment: string } {
  const walDir = join(dataDir, 'member', 'wal');
  const segment = readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort()[0]!;
  const path = join(walDir, segment);
  const bytes = readFileSync(path);
  const enc = new RecordEncoder(0);
  const parts: Uint8Array[] = [];
  let key: string | undefined;
  let target = -1;
  for (const ev of decodeSegment(new ReadWindow(bytesSource(bytes)), { crc: 0, salvage: false })) {
    if (ev.kind !== 'record') continue;
    const { type, data } = ev.record;
    if (type === RecordType.crc) {
      parts.push(enc.crcRecord());
    } else {
      let d = data ?? new Uint8Array(0);
      if (type === RecordType.entry && key === undefined && decodeEntry(d).index === index) {
        const text = Buffer.from(d).toString('latin1');
        const m = /(\/fixture\/[\x21-\x7e]+)/.exec(text);
        if (!m) throw new Error(`entry ${index} carries no /fixture/ key`);
        key = m[1]!;
        target = ev.offset;
        // The fixture's values are `<key>#<generation>:<text>`: change the generation digit after '#'.
        const at = text.indexOf(`${key}#`, m.index + key.length);
        if (at < 0) throw new Error(`entry ${index}: no value of the form ${key}#...`);
        const copy = Uint8Array.from(d);
        const g = at + key.length + 1;
        copy[g] = copy[g] === 0x39 ? 0x38 : copy[g]! + 1;
        d = copy;
      }
      parts.push(enc.record(type, d));
    }
  }
  if (key === undefined) throw new Error(`no entry at index ${index} in ${segment}`);
  const out = Buffer.alloc(bytes.length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  // Our encoder re-makes etcd's records byte for byte: everything before the changed entry is untouched.
  // (After it, frames may differ in length: a CRC is a varint.)
  if (o > bytes.length || Buffer.compare(out.subarray(0, target), bytes.subarray(0, target)) !== 0) throw new Error('re-encoding changed bytes before the edited entry');
  writeFileSync(path, out);
  return { key, segment };
}
