import { createContext, useContext } from 'react';
import type { Key } from 'ink';

/** Handles a key for one screen; returns true when it used the key. */
export type KeyHandler = (input: string, key: Key) => boolean;

export const ScreenKeysContext = createContext<Map<number, KeyHandler>>(new Map());

/**
 * Register the key handler of the screen at `depth` in the App's stack. The App has the one
 * `useInput` and gives each key to the top screen first, then to its own keys (q, ?, Esc). One
 * listener rather than one per screen toggled with `isActive`: that toggle takes effect only when
 * React runs the screen's effects, and a key typed in between would reach two screens.
 */
export function useScreenKeys(depth: number, handler: KeyHandler): void {
  useContext(ScreenKeysContext).set(depth, handler);
}
