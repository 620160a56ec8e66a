/**
 * A member's segment files for the analysis's walk: each opened read-only, and all of them closed
 * after it, whatever happens (also when opening one of them fails).
 */
import { basename } from 'node:path';
import { FileSource } from '../io/file-source.js';
import { type AnalyzeOptions, type WalAnalysis, analyzeWal } from './wal-analysis.js';

export interface SegmentFile {
  name: string;
  path: string;
  source: FileSource;
}

/** Opens every segment (read-only) or none: a failure closes those already open. Call `close` when done. */
export function openSegments(paths: readonly string[]): { segments: SegmentFile[]; close(): void } {
  const segments: SegmentFile[] = [];
  const close = () => {
    for (const s of segments) s.source.close();
  };
  try {
    for (const p of paths) segments.push({ name: basename(p), path: p, source: new FileSource(p) });
  } catch (err) {
    close();
    throw err;
  }
  return { segments, close };
}

export function analyzeWalFiles(paths: readonly string[], opts: AnalyzeOptions = {}): WalAnalysis {
  const files = openSegments(paths);
  try {
    return analyzeWal(files.segments, opts);
  } finally {
    files.close();
  }
}
