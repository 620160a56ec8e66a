// The records screen's rows come from the analysis's record index (gathered in its one walk). They
// agree with the report (same good records, the same place where good data ends, the same records
// found past it) and with a scan of each segment by the shared decoder on its own, on every segment
// of real fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { FileSource } from '../../src/io/file-source.js';
import { SegmentRows } from '../../src/tui/segment-rows.js';
import { ReadWindow } from '../../src/format/bytes.js';
import { decodeSegment } from '../../src/format/wal/decoder.js';
import { endsCleanly } from '../../src/format/wal/walk.js';

/** The rows as a direct scan of one segment gives them: [offset, kind] for every row. */
function scanned(src: FileSource, crcIn: number): [number, string][] {
  const rows: [number, string][] = [];
  let damagedAt: number | undefined;
  for (const ev of decodeSegment(new ReadWindow(src), { crc: crcIn, salvage: true })) {
    if (ev.kind === 'record') rows.push([ev.offset, 'good']);
    else if (ev.kind === 'end') {
      if (!endsCleanly(ev.end)) {
        damagedAt = ev.end.offset;
        rows.push([ev.end.offset, 'damaged']);
      }
    } else if (ev.offset !== damagedAt) rows.push([ev.offset, 'salvaged']);
  }
  return rows;
}
import { loadFixture } from '../support/fixtures.js';

for (const name of ['v35-bitflip-mid', 'v35-segments', 'v34-torn-tail', 'v35-crc-link', 'v35-garbage-tail']) {
  test(`${name}: rows = good records + the damaged frame + salvaged records, as the report counts them`, async () => {
    const fx = await loadFixture(name);
    try {
      const a = inspectPath(fx.dir, { indexRecords: true });
      a.report.wal!.segments.forEach((seg, i) => {
        const src = new FileSource(a.layout.segments[i]!);
        try {
          const rows = new SegmentRows(src, a.records!.segment(i)!);
          const all = Array.from({ length: rows.count }, (_, r): [number, string] => [rows.offsetOf(r), rows.kindOf(r)]);
          assert.deepEqual(all, scanned(src, a.wal!.segments[i]!.crcIn), `${seg.name}: rows as a scan of the segment gives them`);
          const good = Object.values(seg.records).reduce((x, y) => x + y, 0);
          const damaged = seg.end === 'eof' || seg.end === 'zero-length' ? 0 : 1;
          assert.equal(rows.damagedRow, damaged ? good : -1, `${seg.name}: damaged row`);
          if (damaged) assert.equal(rows.offsetOf(rows.damagedRow), seg.goodBytes, `${seg.name}: the damaged frame is at goodBytes`);
          const salvaged = rows.count - good - damaged;
          assert.equal(salvaged, seg.salvage.records, `${seg.name}: records past the damage`);
          for (let r = 0; r < good; r++) assert.equal(rows.kindOf(r), 'good');
          const entries = [];
          for (let r = 0; r < good; r++) {
            const v = rows.view(r);
            if (v.type === 'entry') entries.push(v.index!);
          }
          assert.equal(entries.length, seg.records.entry);
          if (seg.firstEntry) {
            assert.equal(`${entries[0]}`, seg.firstEntry.index);
            assert.equal(`${entries.at(-1)}`, seg.lastEntry!.index);
          }
        } finally {
          src.close();
        }
      });
    } finally {
      fx.cleanup();
    }
  });
}
