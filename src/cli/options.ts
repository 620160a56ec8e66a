/**
 * The format flags every command declares, and the flag validation their actions share. zod turns
 * flag strings into typed values; it is loaded only when a flag needs checking, so a plain `verify`
 * does not pay for it, and `--help` loads nothing of the library from here.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { EtcdVersion } from '../inspect/predict.js';

export async function parseEtcdVersion(v: string | undefined): Promise<EtcdVersion | undefined> {
  if (v === undefined) return undefined;
  const [{ z }, { ETCD_VERSIONS }] = await Promise.all([import('zod'), import('../inspect/predict.js')]);
  const r = z.enum(ETCD_VERSIONS).safeParse(v);
  if (!r.success) throw new UsageError(`--etcd-version must be one of ${ETCD_VERSIONS.join(', ')}, got '${v}'`);
  return r.data;
}

export async function parseU64(name: string, v: string | undefined): Promise<bigint | undefined> {
  if (v === undefined) return undefined;
  const { z } = await import('zod');
  const r = z.string().regex(/^\d+$/, 'expected a non-negative integer').transform((s) => BigInt(s)).safeParse(v);
  if (!r.success) throw new UsageError(`${name} must be a non-negative integer, got '${v}'`);
  return r.data;
}

/** The options inspect and verify share, and the analysis they both run. */
export interface AnalysisFlags {
  json?: boolean;
  walDir?: string;
  etcdVersion?: string;
  peerDir?: string[];
}

export async function analysisOptions(o: AnalysisFlags): Promise<{ walDir?: string; etcdVersion?: EtcdVersion; peerDirs?: string[] }> {
  const v = await parseEtcdVersion(o.etcdVersion);
  return { ...(o.walDir ? { walDir: o.walDir } : {}), ...(v ? { etcdVersion: v } : {}), ...(o.peerDir?.length ? { peerDirs: o.peerDir } : {}) };
}

/** `--peer-dir` may be given several times. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Output formats, as etcdctl names them (`-w, --write-out`). */
export type OutputFormat = 'simple' | 'table' | 'json';

export interface FormatFlags {
  json?: boolean;
  writeOut?: string;
  output?: string;
}

/**
 * `-w/--write-out FORMAT` (etcdctl's flag), `-o/--output FORMAT` (kubectl's) and `--json` on one
 * command. Commands that cannot draw a table leave it out of `formats`.
 */
export function addFormatOptions<C extends Command>(cmd: C, formats: readonly OutputFormat[] = ['simple', 'table', 'json'], withDashO = true): C {
  cmd.option('-w, --write-out <format>', `output format: ${formats.join(', ')} (default simple)`);
  if (withDashO) cmd.option('-o, --output <format>', 'the same as -w (as kubectl names it)');
  return cmd.option('--json', 'the same as -w json');
}

/** The format the flags ask for; a format the command does not have is a usage error. */
export function outputFormat(o: FormatFlags, formats: readonly OutputFormat[] = ['simple', 'table', 'json']): OutputFormat {
  const asked = [o.json ? 'json' : undefined, o.writeOut, o.output].filter((x): x is string => x !== undefined);
  for (const f of asked) {
    if (!(formats as readonly string[]).includes(f)) throw new UsageError(`output format '${f}' is not one of ${formats.join(', ')}`);
  }
  if (new Set(asked).size > 1) throw new UsageError(`conflicting output formats: ${[...new Set(asked)].join(' and ')}`);
  return (asked[0] as OutputFormat | undefined) ?? 'simple';
}
