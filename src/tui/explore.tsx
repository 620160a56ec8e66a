import { render } from 'ink';
import type { Analysis } from '../inspect/analyze.js';
import { FileSource } from '../io/file-source.js';
import { App } from './App.js';
import { layoutEngineReady } from './layout-ready.js';

/**
 * Run the explorer on a finished analysis until the user quits. Segment files are opened when
 * their records are first shown and closed on the way out.
 */
export async function runExplore(analysis: Analysis, opts: { color: boolean }): Promise<void> {
  const opened: FileSource[] = [];
  const openSegment = (i: number) => {
    const path = analysis.layout.segments[i];
    if (path === undefined) throw new Error(`no segment ${i}`);
    const s = new FileSource(path);
    opened.push(s);
    return s;
  };
  await layoutEngineReady();
  const app = render(<App analysis={analysis} openSegment={openSegment} color={opts.color} />, { exitOnCtrlC: true, patchConsole: false });
  try {
    await app.waitUntilExit();
  } finally {
    for (const s of opened) s.close();
  }
}
