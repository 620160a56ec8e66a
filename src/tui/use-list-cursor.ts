import { useCallback, useState } from 'react';
import type { Key } from 'ink';

export interface ListCursor {
  cursor: number;
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
  const [state, setState] = useState(() => place({ cursor: 0, top: 0 }, initial, count, page));
  const set = useCallback((pos: number) => setState((s) => place(s, pos, count, page)), [count, page]);
  const cur = place(state, state.cursor, count, page);
  // Relative moves update from the latest state, not this render's: keys typed faster than the
  // screen redraws all count.
  const move = (delta: number) => setState((s) => place(s, place(s, s.cursor, count, page).cursor + delta, count, page));
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
  return { cursor: cur.cursor, top: cur.top, set, handleKey };
}

function place(s: { cursor: number; top: number }, pos: number, count: number, page: number): { cursor: number; top: number } {
  const cursor = count === 0 ? 0 : Math.min(Math.max(0, pos), count - 1);
  let top = s.top;
  if (cursor < top) top = cursor;
  if (cursor >= top + page) top = cursor - page + 1;
  top = Math.max(0, Math.min(top, Math.max(0, count - page)));
  return { cursor, top };
}
