import { useCallback, useRef, useState } from 'react';
import type { Key } from 'ink';

export interface ListCursor {
  /** The cursor as this render shows it. */
  cursor: number;
  /** The cursor after every key handled so far, rendered or not: what a key handler must read. */
  current(): number;
  /** First visible position. */
  top: number;
  set(pos: number): void;
  /** Arrows, j/k, PgUp/PgDn (also space / b), g/G, Home/End; true when the key was one of them. */
  handleKey(input: string, key: Key): boolean;
}

/**
 * A cursor over `count` positions shown `page` at a time: the window scrolls only as far as it
 * must to keep the cursor visible, so only `page` rows are ever rendered (or decoded).
 */
export function useListCursor(count: number, page: number, initial = 0, pageStep = Math.max(1, page - 1)): ListCursor {
  const [state, setStateRaw] = useState(() => place({ cursor: 0, top: 0 }, initial, count, page));
  // The latest state, also between renders: keys typed faster than the screen redraws all count,
  // and Enter after `d` opens the row `d` went to.
  const latest = useRef(state);
  const setState = useCallback((f: (s: { cursor: number; top: number }) => { cursor: number; top: number }) => {
    latest.current = f(latest.current);
    setStateRaw(latest.current);
  }, []);
  const set = useCallback((pos: number) => setState((s) => place(s, pos, count, page)), [count, page, setState]);
  const cur = place(state, state.cursor, count, page);
  const move = (delta: number) => setState((s) => place(s, place(s, s.cursor, count, page).cursor + delta, count, page));
  const current = () => place(latest.current, latest.current.cursor, count, page).cursor;
  const handleKey = (input: string, key: Key): boolean => {
    const step = pageStep;
    if (key.downArrow || input === 'j') move(1);
    else if (key.upArrow || input === 'k') move(-1);
    else if (key.pageDown || input === ' ') move(step);
    else if (key.pageUp || input === 'b') move(-step);
    else if (input === 'g' || key.home) set(0);
    else if (input === 'G' || key.end) set(count - 1);
    else return false;
    return true;
  };
  return { cursor: cur.cursor, current, top: cur.top, set, handleKey };
}

function place(s: { cursor: number; top: number }, pos: number, count: number, page: number): { cursor: number; top: number } {
  const cursor = count === 0 ? 0 : Math.min(Math.max(0, pos), count - 1);
  let top = s.top;
  if (cursor < top) top = cursor;
  if (cursor >= top + page) top = cursor - page + 1;
  top = Math.max(0, Math.min(top, Math.max(0, count - page)));
  return { cursor, top };
}
