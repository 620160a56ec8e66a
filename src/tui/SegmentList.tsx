import { Box, Text } from 'ink';
import type { Report, Segment } from '../inspect/report.js';
import { formatBytes } from '../format/payload/payload.js';
import { toneProps, useTheme } from './theme.js';
import { useListCursor } from './use-list-cursor.js';
import { useScreenKeys } from './use-screen-keys.js';

export interface SegmentListProps {
  report: Report;
  height: number;
  width: number;
  depth: number;
  initial: number;
  onOpen(segment: number, firstDamage: boolean): void;
  onMessage(text: string): void;
}

const BAR = 12;

export function isDamaged(s: Segment): boolean {
  return s.end !== 'eof' && s.end !== 'zero-length';
}

/** Where good data ends in the file, as `[####........]`: the filled part is good. */
export function goodBar(s: Segment): string {
  const filled = s.size === 0 ? BAR : s.goodBytes === 0 ? 0 : Math.max(1, Math.round((s.goodBytes / s.size) * BAR));
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
}

export function segmentRowText(s: Segment): string {
  const recs = Object.values(s.records).reduce((a, b) => a + b, 0);
  const range = s.firstEntry ? `${s.firstEntry.index}..${s.lastEntry?.index ?? '?'}` : '-';
  return `${(s.seq ?? '?').padStart(3)} ${formatBytes(s.size).padStart(8)} ${range.padEnd(14)} ${String(recs).padStart(6)}  ${s.ending.padEnd(17)} ${goodBar(s)} ${s.goodBytes.toLocaleString('en-US')}`;
}

/** The selected segment's name and its count, as its records screen gives it. */
function footer(s: Segment | undefined): string {
  if (!s) return 'no WAL segments';
  const good = Object.values(s.records).reduce((a, b) => a + b, 0);
  const damaged = isDamaged(s) && s.ending !== 'garbage-after-end';
  return `${s.name}  ${good.toLocaleString('en-US')} records${damaged ? ' + ! 1 damaged' : ''}${s.salvage.records ? ` + ${s.salvage.records.toLocaleString('en-US')} past it` : ''}`;
}

/** Screen 2: every segment with its size, index range, records, how it ends and where good data stops. */
export function SegmentList({ report, height, width, depth, initial, onOpen, onMessage }: SegmentListProps) {
  const theme = useTheme();
  const segments = report.wal?.segments ?? [];
  const page = Math.max(1, height - 2);
  const list = useListCursor(segments.length, page, initial);
  useScreenKeys(depth, (input, key) => {
      if (list.handleKey(input, key)) return true;
      if ((key.return || key.rightArrow || input === 'l') && segments.length > 0) onOpen(list.current(), false);
      else if (input === 'd') {
        for (let k = 1; k <= segments.length; k++) {
          const i = (list.current() + k) % segments.length;
          if (isDamaged(segments[i]!)) {
            list.set(i);
            onMessage(`segment ${i}: ${segments[i]!.ending} at byte ${segments[i]!.goodBytes.toLocaleString('en-US')}`);
            return true;
          }
        }
        onMessage('no damaged segment');
      } else if (input === '/' || input === 'f' || input === 'n') onMessage('search and filter work on the records of a segment: press Enter to open one');
      else return false;
      return true;
  });
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate-end">{' seq     size index range    records  ending            good data'}</Text>
      {segments.slice(list.top, list.top + page).map((s, k) => {
        const i = list.top + k;
        const sel = i === list.cursor;
        return (
          <Text key={i} inverse={sel} wrap="truncate-end" {...toneProps(theme, isDamaged(s) ? 'error' : undefined)}>
            {`${sel ? '>' : ' '}${segmentRowText(s)}`.padEnd(width)}
          </Text>
        );
      })}
      <Text dimColor wrap="truncate-end">{footer(segments[list.cursor])}</Text>
    </Box>
  );
}
