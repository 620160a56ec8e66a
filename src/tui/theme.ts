/**
 * Colour is a hint, never the only carrier of meaning: every state also has a mark (`!`, `+`)
 * or a word, so the screens read the same under NO_COLOR and in `tmux capture-pane`.
 */
import { createContext, useContext } from 'react';

export type Tone = 'error' | 'warning' | 'ok' | 'dim' | 'head' | 'salvaged' | undefined;

export interface Theme {
  color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: false });

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** ink <Text> props for a tone: a colour when allowed, bold/dim otherwise. */
export function toneProps(theme: Theme, tone: Tone): { color?: string; bold?: boolean; dimColor?: boolean } {
  switch (tone) {
    case 'error':
      return theme.color ? { color: 'red', bold: true } : { bold: true };
    case 'warning':
      return theme.color ? { color: 'yellow' } : {};
    case 'salvaged':
      return theme.color ? { color: 'yellow' } : {};
    case 'ok':
      return theme.color ? { color: 'green' } : {};
    case 'dim':
      return { dimColor: true };
    case 'head':
      return { bold: true };
    default:
      return {};
  }
}
