/**
 * The `.snap` step of the analysis: each file checked as etcd checks it when it loads snapshots
 * (empty, protobuf, CRC-32C, raft snapshot), matched against the WAL's snapshot records.
 */
import { basename } from 'node:path';
import { FileSource } from '../io/file-source.js';
import { checkSnapFile } from '../format/snap/snap.js';
import { hex16, parseSnapName } from '../format/wal/names.js';
import type { SnapFileFacts } from './predict.js';
import type { Finding, Report } from './report.js';
import type { WalAnalysis } from './wal-analysis.js';

/** .snap files are read whole (as etcd does); refuse absurd sizes rather than allocate them. */
const MAX_SNAP_BYTES = 1 << 30;

export interface SnapStep {
  reports: Report['snapFiles'];
  facts: SnapFileFacts[];
  findings: Finding[];
}

function hexCrc(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

export function snapStep(paths: readonly string[], wal: WalAnalysis | undefined, rel: (abs: string) => string): SnapStep {
  const out: SnapStep = { reports: [], facts: [], findings: [] };
  for (const p of paths) {
    const name = basename(p);
    const parsed = parseSnapName(name) ?? { term: 0n, index: 0n };
    const src = new FileSource(p);
    let bytes: Uint8Array;
    const size = src.size;
    try {
      if (size > MAX_SNAP_BYTES) {
        out.reports.push({ name, term: `${parsed.term}`, index: `${parsed.index}`, size, status: 'too-large', error: `larger than ${MAX_SNAP_BYTES} bytes`, matchesWalRecord: false, voters: [] });
        continue;
      }
      bytes = src.read(0, size);
    } finally {
      src.close();
    }
    const c = checkSnapFile(bytes);
    const matches = wal?.snapshots.some((r) => r.index === parsed.index && r.term === parsed.term) ?? false;
    const error = c.ok ? null : c.code === 'snap-empty' ? `snap: empty snapshot (${c.reason})` : c.code === 'snap-crc-mismatch' ? `snap: crc mismatch (stored ${hexCrc(c.stored)}, computed ${hexCrc(c.computed)})` : c.error;
    const voters = c.ok ? c.snapshot.metadata.confState.voters : [];
    out.reports.push({ name, term: `${parsed.term}`, index: `${parsed.index}`, size, status: c.ok ? 'ok' : c.code, error, matchesWalRecord: matches, voters: voters.map(hex16) });
    out.facts.push({ name, term: parsed.term, index: parsed.index, valid: c.ok, error: error ?? undefined, voters });
    const file = rel(p);
    if (!c.ok) {
      out.findings.push({ code: 'snap-file-broken', severity: 'warning', file, offset: 0, found: error ?? '', name, error: error ?? '' });
      continue;
    }
    const m = c.snapshot.metadata;
    if (m.index !== parsed.index || m.term !== parsed.term) {
      out.findings.push({ code: 'snap-name-mismatch', severity: 'warning', file, expected: `${parsed.term}-${parsed.index}`, found: `${m.term}-${m.index}`, nameTerm: `${parsed.term}`, nameIndex: `${parsed.index}`, term: `${m.term}`, index: `${m.index}` });
    }
    if (wal && !matches) {
      out.findings.push({ code: 'snap-without-wal-record', severity: 'info', file, term: `${parsed.term}`, index: `${parsed.index}` });
    }
  }
  return out;
}
