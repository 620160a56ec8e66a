import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

/** Columns and rows of the terminal (80x24 when it does not say), following resizes. */
export function useTerminalSize(fixed?: { width: number; height: number }): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = () => ({ width: stdout.columns || 80, height: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return undefined;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}
