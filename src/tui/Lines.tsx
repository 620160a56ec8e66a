import { Box, Text } from 'ink';
import type { Line } from './overview-lines.js';
import { toneProps, useTheme } from './theme.js';

/** Lines [top, top+height) of a text, each cut to the width (never wrapped: the layout is fixed). */
export function Lines({ lines, top, height }: { lines: Line[]; top: number; height: number }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(top, top + height).map((l, i) => (
        <Text key={top + i} wrap="truncate-end" {...toneProps(theme, l.tone)}>
          {l.text === '' ? ' ' : l.text}
        </Text>
      ))}
    </Box>
  );
}
