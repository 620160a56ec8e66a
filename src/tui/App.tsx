/**
 * `wal-doctor explore`: overview → segments → records of a segment → one record. Every screen
 * reads the same analysis as `inspect` (the Report) and the same decoder; screens under the top
 * one stay mounted (hidden), so going back returns to where you were.
 */
import { Box, type Key, Text, useApp, useInput } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { type KeyHandler, ScreenKeysContext } from './use-screen-keys.js';
import type { ByteSource } from '../format/bytes.js';
import type { Analysis } from '../inspect/analyze.js';
import { Help } from './Help.js';
import { Overview } from './Overview.js';
import { RecordDetail } from './RecordDetail.js';
import { RecordList } from './RecordList.js';
import { SegmentList, isDamaged } from './SegmentList.js';
import { SegmentRows } from './segment-rows.js';
import { ThemeContext } from './theme.js';
import { useTerminalSize } from './use-terminal-size.js';

export interface AppProps {
  analysis: Analysis;
  /** Opens segment i (index into the report's segments) for reading; the caller closes it. */
  openSegment(i: number): ByteSource;
  color: boolean;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: { width: number; height: number };
}

type Screen =
  | { name: 'overview' }
  | { name: 'segments'; initial: number }
  | { name: 'records'; segment: number; atDamage: boolean }
  | { name: 'detail'; segment: number; row: number };

const HINTS: Record<Screen['name'], string> = {
  overview: 'Enter segments  d first damage  j/k scroll  ? help  q quit',
  segments: 'Enter records  d next damaged  Esc back  ? help  q quit',
  records: 'Enter detail  / search  n next  d damage  f filter  Esc back  ? help  q quit',
  detail: 'j/k PgUp/PgDn scroll  Esc back  ? help  q quit',
};

export function App({ analysis, openSegment, color, size }: AppProps) {
  const { exit } = useApp();
  const { width, height } = useTerminalSize(size);
  const report = analysis.report;
  const [stack, setStack] = useState<Screen[]>([{ name: 'overview' }]);
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const handlers = useRef(new Map<number, KeyHandler>());
  // Refs, not only state: the next key may come before React re-renders.
  const depthRef = useRef(0);
  const helpRef = useRef(false);
  const rowsCache = useRef(new Map<number, SegmentRows>());
  const top = stack[stack.length - 1]!;
  // Header + body + footer fill one line less than the terminal: ink redraws in place only then.
  const body = Math.max(3, height - 3);

  const rowsOf = (i: number): SegmentRows => {
    let r = rowsCache.current.get(i);
    if (!r) {
      const index = analysis.records?.segment(i);
      if (!index) throw new Error(`explore: segment ${i} has no record index (inspectPath needs indexRecords)`); // a bug in the caller
      r = new SegmentRows(openSegment(i), index);
      rowsCache.current.set(i, r);
    }
    return r;
  };
  const push = (s: Screen) => {
    setMessage(undefined);
    depthRef.current++;
    setStack((st) => [...st, s]);
  };
  const setHelpNow = (on: boolean) => {
    helpRef.current = on;
    setHelp(on);
  };

  // Keys that arrive before the screen they are meant for has mounted (Enter, then `d` in the same
  // burst: a paste, a quick typist over a slow link) wait here and are given to it once it has.
  const pending = useRef<[string, Key][]>([]);
  const dispatch = (input: string, key: Key) => {
    if (helpRef.current) {
      setHelpNow(false);
      return;
    }
    if (handlers.current.get(depthRef.current)?.(input, key)) return;
    if (input === 'q') exit();
    else if (input === '?') setHelpNow(true);
    else if ((key.escape || key.leftArrow || input === 'h' || key.backspace) && depthRef.current > 0) {
      setMessage(undefined);
      handlers.current.delete(depthRef.current);
      depthRef.current--;
      setStack((st) => st.slice(0, -1));
    }
  };
  const drain = () => {
    while (pending.current.length > 0 && handlers.current.has(depthRef.current)) {
      const [input, key] = pending.current.shift()!;
      dispatch(input, key);
    }
  };
  useInput((input, typed) => {
    // A line feed is an Enter typed before ink put the terminal in raw mode (the tty's ICRNL turned
    // its CR into LF while it waited): ink calls it `enter`, not `return`. Take it as Enter, or a key
    // pressed as the first screen appears is lost (it was, under load, in the tmux test).
    const key: Key = input === '\n' && !typed.return ? { ...typed, return: true } : typed;
    if (pending.current.length > 0 || !handlers.current.has(depthRef.current)) {
      pending.current.push([input, key]);
      drain();
    } else dispatch(input, key);
  });
  // After every render the top screen's handler is registered: hand it what waited.
  useEffect(drain);

  const segments = report.wal?.segments ?? [];
  const firstDamaged = segments.findIndex(isDamaged);
  const crumbs = stack
    .map((s) => (s.name === 'overview' ? 'overview' : s.name === 'segments' ? 'segments' : s.name === 'records' ? (segments[s.segment]?.name ?? '?') : `@${rowsOf(s.segment).offsetOf(s.row)}`))
    .join(' › ');

  return (
    <ThemeContext.Provider value={{ color }}>
     <ScreenKeysContext.Provider value={handlers.current}>
      <Box flexDirection="column" width={width} height={height - 1}>
        <Text bold wrap="truncate-start" inverse={color}>
          {` wal-doctor explore  ${report.path}  ${crumbs} `.padEnd(width)}
        </Text>
        {help ? <Help height={body} /> : null}
        {stack.map((s, i) => {
          const shown = !help && i === stack.length - 1 ? 'flex' : 'none';
          switch (s.name) {
            case 'overview':
              return (
                <Box key={i} display={shown}>
                  <Overview analysis={analysis} height={body} width={width} depth={i} onOpen={(d) => push({ name: 'segments', initial: d && firstDamaged >= 0 ? firstDamaged : 0 })} />
                </Box>
              );
            case 'segments':
              return (
                <Box key={i} display={shown}>
                  <SegmentList report={report} height={body} width={width} depth={i} initial={s.initial} onMessage={setMessage} onOpen={(seg, d) => push({ name: 'records', segment: seg, atDamage: d })} />
                </Box>
              );
            case 'records':
              return (
                <Box key={i} display={shown}>
                  <RecordList
                    rows={rowsOf(s.segment)}
                    segment={segments[s.segment]!}
                    height={body}
                    width={width}
                    depth={i}
                    startAtDamage={s.atDamage}
                    onMessage={setMessage}
                    onOpen={(row) => push({ name: 'detail', segment: s.segment, row })}
                  />
                </Box>
              );
            case 'detail':
              return (
                <Box key={i} display={shown}>
                  <RecordDetail rows={rowsOf(s.segment)} row={s.row} height={body} depth={i} />
                </Box>
              );
          }
        })}
        <Text wrap="truncate-end" dimColor={message === undefined}>
          {message ?? HINTS[top.name]}
        </Text>
      </Box>
     </ScreenKeysContext.Provider>
    </ThemeContext.Provider>
  );
}
