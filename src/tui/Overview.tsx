import { Box } from 'ink';
import { useMemo } from 'react';
import type { Analysis } from '../inspect/analyze.js';
import { verdictWords } from '../cli/render/verdict.js';
import { Lines } from './Lines.js';
import { overviewLines, wrapLines } from './overview-lines.js';
import { useListCursor } from './use-list-cursor.js';
import { useScreenKeys } from './use-screen-keys.js';

export interface OverviewProps {
  analysis: Analysis;
  height: number;
  width: number;
  depth: number;
  onOpen(firstDamage: boolean): void;
}

/** Screen 1: the dir at a glance; Enter lists the segments, `d` goes to the first damaged one. */
export function Overview({ analysis, height, width, depth, onOpen }: OverviewProps) {
  const lines = useMemo(() => wrapLines(overviewLines(analysis.report, verdictWords(analysis)), width), [analysis, width]);
  const scroll = useListCursor(Math.max(1, lines.length - height + 1), 1, 0, Math.max(1, height - 1));
  useScreenKeys(depth, (input, key) => {
    if (key.return || key.rightArrow || input === 'l') onOpen(false);
    else if (input === 'd') onOpen(true);
    else return scroll.handleKey(input, key);
    return true;
  });
  return (
    <Box flexDirection="column" height={height}>
      <Lines lines={lines} top={scroll.cursor} height={height} />
    </Box>
  );
}
