import { useState } from 'react';
import type { Key } from 'ink';

export interface Prompt {
  /** The label shown while open (`/`, `filter type:`), undefined when closed. */
  label: string | undefined;
  value: string;
  open(label: string, initial?: string): void;
  /** Typing, Backspace, Enter (submits), Esc (cancels); true while the prompt takes the keys. */
  handleKey(input: string, key: Key): boolean;
}

/** A one-line text prompt in the footer, for search and filter. */
export function usePrompt(onSubmit: (label: string, value: string) => void): Prompt {
  const [label, setLabel] = useState<string | undefined>(undefined);
  const [value, setValue] = useState('');
  return {
    label,
    value,
    open(l, initial = '') {
      setLabel(l);
      setValue(initial);
    },
    handleKey(input, key) {
      if (label === undefined) return false;
      if (key.escape) setLabel(undefined);
      else if (key.return) {
        setLabel(undefined);
        onSubmit(label, value);
      } else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1));
      else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow) setValue((v) => v + input);
      return true;
    },
  };
}
