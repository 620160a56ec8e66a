import { Box, Text } from 'ink';

export const HELP_LINES = [
  'Keys',
  '  ↑/↓ j/k      move            PgUp/PgDn (b/space)  page',
  '  g / G        first / last    Enter (→, l)         open',
  '  Esc (←, h)   back            q                    quit',
  '  /            search a segment\'s records: key text, entry index,',
  '               byte offset (decimal or 0x hex)',
  '  n            next match      d                    next damage',
  '  f            filter by type: put, txn, delete_range, noop, lease_grant,',
  '               state, crc, snapshot, metadata, ConfChange, damaged',
  '               (empty clears the filter)',
  '  ?            this help (any key closes it)',
  '',
  'Marks',
  '  !  the frame where good data ends: etcd\'s reader stops there',
  '  +  a record found past the damage (etcd never reads it)',
  '  [####....]  how far into the segment file the good data reaches',
];

export function Help({ height }: { height: number }) {
  return (
    <Box flexDirection="column" height={height}>
      {HELP_LINES.slice(0, height).map((l, i) => (
        <Text key={i} wrap="truncate-end" bold={i === 0 || l === 'Marks'}>
          {l === '' ? ' ' : l}
        </Text>
      ))}
    </Box>
  );
}
