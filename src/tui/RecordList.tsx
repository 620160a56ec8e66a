import { Box, Text } from 'ink';
import { useMemo, useRef, useState } from 'react';
import type { Segment } from '../inspect/report.js';
import type { RowView, SegmentRows } from './segment-rows.js';
import { toneProps, useTheme } from './theme.js';
import { useListCursor } from './use-list-cursor.js';
import { usePrompt } from './use-prompt.js';
import { useScreenKeys } from './use-screen-keys.js';

export interface RecordListProps {
  rows: SegmentRows;
  segment: Segment;
  height: number;
  width: number;
  depth: number;
  /** Start on the frame where good data ends. */
  startAtDamage: boolean;
  onOpen(row: number): void;
  onMessage(text: string): void;
}

const MARK = { good: ' ', damaged: '!', salvaged: '+' } as const;

export function recordRowText(v: RowView): string {
  const idx = v.index !== undefined && v.type === 'entry' ? `${v.index}` : v.index !== undefined ? `(${v.index})` : '';
  return `${MARK[v.kind]}${String(v.offset).padStart(10)} ${v.type.padEnd(8)} ${idx.padStart(8)} ${(v.term !== undefined ? `${v.term}` : '').padStart(4)} ${(v.entryType ?? '').padEnd(10)} ${v.summary}`;
}

/**
 * Screen 3: the records of one segment, windowed: only the rows on screen are decoded. `!` marks
 * the frame where good data ends, `+` records found past it.
 */
export function RecordList({ rows, segment, height, width, depth, startAtDamage, onOpen, onMessage }: RecordListProps) {
  const theme = useTheme();
  const [filter, setFilter] = useState<{ type: string; rows: Int32Array } | undefined>(undefined);
  // A ref, not state: `n` typed right after Enter must find the query just submitted.
  const query = useRef<string | undefined>(undefined);
  const count = filter ? filter.rows.length : rows.count;
  const page = Math.max(1, height - 2);
  const list = useListCursor(count, page, startAtDamage && rows.damagedRow >= 0 ? rows.damagedRow : 0);
  const rowAt = (pos: number) => (filter ? filter.rows[pos]! : pos);

  const search = (q: string, from: number) => {
    const hit = rows.find(q, from, filter?.rows);
    if (hit < 0) onMessage(`not found: ${q}`);
    else {
      list.set(hit);
      onMessage(`/${q}: record at byte ${rows.offsetOf(rowAt(hit)).toLocaleString('en-US')} (n: next)`);
    }
  };
  const prompt = usePrompt((label, value) => {
    if (label === '/') {
      if (value.trim() === '') return;
      query.current = value;
      search(value, list.current());
    } else {
      const current = rowAt(list.current());
      if (value.trim() === '') {
        setFilter(undefined);
        list.set(current);
        onMessage('filter cleared');
        return;
      }
      const got = rows.filter(value);
      if (got.length === 0) {
        onMessage(`no record of type ${value} (try put, txn, delete_range, noop, state, crc, snapshot, ConfChange, damaged)`);
        return;
      }
      setFilter({ type: value.trim(), rows: got });
      const pos = got.findIndex((r) => r >= current);
      list.set(pos < 0 ? got.length - 1 : pos);
      onMessage(`filter ${value.trim()}: ${got.length.toLocaleString('en-US')} record(s)`);
    }
  });

  useScreenKeys(depth, (input, key) => {
      // While the prompt is open it takes every key (Esc cancels it rather than leaving the screen).
      if (prompt.handleKey(input, key)) return true;
      if (list.handleKey(input, key)) return true;
      if ((key.return || key.rightArrow || input === 'l') && count > 0) onOpen(rowAt(list.current()));
      else if (input === '/') prompt.open('/');
      else if (input === 'f') prompt.open('filter type:', filter?.type ?? '');
      else if (input === 'n') {
        if (query.current === undefined) onMessage('no search yet: press / to search');
        else search(query.current, list.current());
      } else if (input === 'd') {
        const cur = rowAt(list.current());
        const next = rows.nextDamage(cur);
        if (next < 0) onMessage('no damage in this segment');
        else {
          const pos = filter ? filter.rows.indexOf(next) : next;
          if (pos < 0) onMessage('the damage is hidden by the filter (f, Enter on empty clears it)');
          else {
            list.set(pos);
            onMessage(next === rows.damagedRow ? `good data ends here: ${segment.ending} at byte ${rows.offsetOf(next).toLocaleString('en-US')}` : `past the damage: record at byte ${rows.offsetOf(next).toLocaleString('en-US')}`);
          }
        }
      } else return false;
      return true;
  });

  const visible = useMemo(() => {
    const out: RowView[] = [];
    for (let pos = list.top; pos < Math.min(count, list.top + page); pos++) out.push(rows.view(rowAt(pos)));
    return out; // rowAt reads only `filter`, which is a dependency
  }, [rows, filter, list.top, page, count]);

  // Counted as the segments screen counts (good records), then the damaged frame and what lies past it.
  const status = filter
    ? `${count.toLocaleString('en-US')} of ${rows.count.toLocaleString('en-US')} rows [${filter.type}]  ${segment.ending} at ${segment.goodBytes.toLocaleString('en-US')}`
    : `${rows.countText()}  ${segment.ending} at ${segment.goodBytes.toLocaleString('en-US')}`;
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate-end">{'      offset type        index term entry type summary'}</Text>
      {visible.map((v, k) => {
        const pos = list.top + k;
        const sel = pos === list.cursor;
        return (
          <Text key={pos} inverse={sel} wrap="truncate-end" {...toneProps(theme, v.kind === 'damaged' ? 'error' : v.kind === 'salvaged' ? 'salvaged' : undefined)}>
            {`${sel ? '>' : ' '}${recordRowText(v)}`.padEnd(width)}
          </Text>
        );
      })}
      {visible.length < page ? <Box height={page - visible.length} /> : null}
      {prompt.label !== undefined ? (
        <Text wrap="truncate-end">{`${prompt.label}${prompt.label === '/' ? '' : ' '}${prompt.value}_`}</Text>
      ) : (
        <Text dimColor wrap="truncate-end">{status}</Text>
      )}
    </Box>
  );
}
