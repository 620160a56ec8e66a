// The records screen's index agrees with the shared analysis: same good records, the same place
// where good data ends, the same records found past it, on every segment of real fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { FileSource } from '../../src/io/file-source.js';
import { SegmentRows } from '../../src/tui/segment-rows.js';
import { loadFixture } from '../support/fixtures.js';

for (const name of ['v35-bitflip-mid', 'v35-segments', 'v34-torn-tail', 'v35-crc-link', 'v35-garbage-tail']) {
  test(`${name}: rows = good records + the damaged frame + salvaged records, as the report counts them`, async () => {
    const fx = await loadFixture(name);
    try {
      const a = inspectPath(fx.dir);
      a.report.wal!.segments.forEach((seg, i) => {
        const src = new FileSource(a.layout.segments[i]!);
        try {
          const rows = new SegmentRows(src, a.wal!.segments[i]!.crcIn);
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
