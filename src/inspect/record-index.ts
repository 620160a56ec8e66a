/**
 * Where every record of every segment lies, gathered from the analysis's one walk: each good
 * record's offset, the frame where a segment's good data ends, and each record found past it. ~9
 * bytes per record (a Float64Array and a Uint8Array), so only a caller that shows records asks for
 * it (explore's records screen); the records themselves are decoded again only when shown.
 */
import type { SegmentEnd } from '../format/wal/decoder.js';
import { type WalkEvent, endsCleanly } from '../format/wal/walk.js';

export const RowKind = { good: 0, damaged: 1, salvaged: 2 } as const;

/** One segment's rows: good records in order, then the damaged frame (if any), then salvaged records. */
export interface SegmentIndex {
  count: number;
  offsets: Float64Array;
  kinds: Uint8Array;
  end: SegmentEnd;
  /** Row of the frame where good data ends, or -1 when the segment ends cleanly. */
  damagedRow: number;
}

export class RecordIndex {
  private readonly segments: SegmentIndex[] = [];
  private cur: SegmentIndex | undefined;

  /** The rows of segment `i` (in the walk's order, the layout's), once the walk has passed it. */
  segment(i: number): SegmentIndex | undefined {
    return this.segments[i];
  }

  onEvent(ev: WalkEvent): void {
    if (ev.kind === 'segment-start') {
      this.cur = { count: 0, offsets: new Float64Array(1024), kinds: new Uint8Array(1024), end: { kind: 'eof', offset: ev.size }, damagedRow: -1 };
      this.segments[ev.segment] = this.cur;
      return;
    }
    const s = this.cur;
    if (!s) return;
    if (ev.kind === 'segment-end') {
      s.end = ev.end;
      if (!endsCleanly(ev.end)) {
        s.damagedRow = s.count;
        push(s, ev.end.offset, RowKind.damaged);
      }
      return;
    }
    if (!ev.salvaged) push(s, ev.offset, RowKind.good);
    // The scan past the damage may find a record at the damaged frame itself: one row for it.
    else if (s.damagedRow < 0 || ev.offset !== s.offsets[s.damagedRow]) push(s, ev.offset, RowKind.salvaged);
  }
}

function push(s: SegmentIndex, offset: number, kind: number): void {
  if (s.count === s.offsets.length) {
    const o = new Float64Array(s.count * 2);
    o.set(s.offsets);
    s.offsets = o;
    const k = new Uint8Array(s.count * 2);
    k.set(s.kinds);
    s.kinds = k;
  }
  s.offsets[s.count] = offset;
  s.kinds[s.count] = kind;
  s.count++;
}
