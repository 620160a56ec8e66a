/**
 * analyzeWal over a member's segment files: each opened read-only for the one walk, and all of them
 * closed after it, whatever happens (also when opening one of them fails).
 */
import { basename } from 'node:path';
import { FileSource } from '../io/file-source.js';
import { type AnalyzeOptions, type WalAnalysis, analyzeWal } from './wal-analysis.js';

export function analyzeWalFiles(paths: readonly string[], opts: AnalyzeOptions = {}): WalAnalysis {
  const sources: { name: string; path: string; source: FileSource }[] = [];
  try {
    for (const p of paths) sources.push({ name: basename(p), path: p, source: new FileSource(p) });
    return analyzeWal(sources, opts);
  } finally {
    for (const s of sources) s.source.close();
  }
}
