import { useRef, useState } from 'react';
import type { Key } from 'ink';

export interface Prompt {
  /** The label shown while open (`/`, `filter type:`), undefined when closed. */
  label: string | undefined;
  value: string;
  open(label: string, initial?: string): void;
  /** Typing, Backspace, Enter (submits), Esc (cancels); true while the prompt takes the keys. */
  handleKey(input: string, key: Key): boolean;
}

/**
 * A one-line text prompt in the footer, for search and filter. The label and the text live in refs
 * as well as in state: keys typed faster than React re-renders (a paste, a quick typist over SSH)
 * must see the prompt the previous key opened and the text the previous key typed — state read
 * from this render's closure would still say "closed" and drop them, or submit a stale query.
 * (use-list-cursor had the same fix for the cursor.)
 */
export function usePrompt(onSubmit: (label: string, value: string) => void): Prompt {
  const [label, setLabelState] = useState<string | undefined>(undefined);
  const [value, setValueState] = useState('');
  const labelRef = useRef<string | undefined>(undefined);
  const valueRef = useRef('');
  const setLabel = (l: string | undefined) => {
    labelRef.current = l;
    setLabelState(l);
  };
  const setValue = (v: string) => {
    valueRef.current = v;
    setValueState(v);
  };
  return {
    label,
    value,
    open(l, initial = '') {
      setLabel(l);
      setValue(initial);
    },
    handleKey(input, key) {
      const open = labelRef.current;
      if (open === undefined) return false;
      if (key.escape) setLabel(undefined);
      else if (key.return) {
        setLabel(undefined);
        onSubmit(open, valueRef.current);
      } else if (key.backspace || key.delete) setValue(valueRef.current.slice(0, -1));
      else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow) setValue(valueRef.current + input);
      return true;
    },
  };
}
