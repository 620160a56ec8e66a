/**
 * A progress bar on stderr for long reads: `[########------]  57%  412.3 MB/s  ETA 2s`. Drawn only
 * when stderr is a terminal, not for --json, and only once the work has run for `delayMs`
 * (quick runs print nothing extra). The analysis is synchronous, so the bar is drawn from the
 * walker's own progress callback, at most every `intervalMs`; `done()` erases it.
 */
import { formatBytes } from '../../format/payload/payload.js';
import { errStream, isTTY } from '../output.js';

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  enabled?: boolean;
  delayMs?: number;
  intervalMs?: number;
  now?: () => number;
}

export interface ProgressBar {
  onProgress(bytesDone: number, bytesTotal: number): void;
  done(): void;
  /** Whether anything was drawn (for tests). */
  readonly shown: boolean;
}

export function progressBar(opts: ProgressOptions = {}): ProgressBar {
  const stream = opts.stream ?? errStream();
  const enabled = (opts.enabled ?? true) && Boolean(stream.isTTY);
  const delayMs = opts.delayMs ?? 500;
  const intervalMs = opts.intervalMs ?? 100;
  const now = opts.now ?? (() => performance.now());
  const start = now();
  let last = -Infinity;
  let shown = false;
  return {
    get shown() {
      return shown;
    },
    onProgress(bytesDone, bytesTotal) {
      if (!enabled) return;
      const t = now();
      if (t - start < delayMs || t - last < intervalMs) return;
      last = t;
      shown = true;
      stream.write(`\r${progressLine(bytesDone, bytesTotal, (t - start) / 1000, stream.columns ?? 80)}\x1b[K`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** The bar's text for `done` of `total` bytes after `seconds`, fitted to `columns`. */
export function progressLine(done: number, total: number, seconds: number, columns: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : undefined;
  const tail = ` ${String(Math.floor(frac * 100)).padStart(3)}%  ${formatBytes(Math.round(rate))}/s  ETA ${eta === undefined ? '?' : formatSeconds(eta)}`;
  const barWidth = Math.max(10, Math.min(40, columns - tail.length - 3));
  const filled = Math.round(frac * barWidth);
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The bar for a command: off with --json; `options` spreads into inspectPath's options. */
export function progressFor(o: { json?: boolean | undefined }): ProgressBar & { options: { onProgress?: (d: number, t: number) => void } } {
  const bar = progressBar({ enabled: !o.json });
  const options = o.json || !isTTY.stderr() ? {} : { onProgress: bar.onProgress };
  return Object.assign(bar, { options });
}
