/**
 * Flag validation shared by the commands. zod turns flag strings into typed values; it is loaded
 * only when a flag needs checking, so a plain `verify` does not pay for it at start-up.
 */
import { UsageError } from '../errors.js';
import { ETCD_VERSIONS, type EtcdVersion } from '../inspect/predict.js';

export async function parseEtcdVersion(v: string | undefined): Promise<EtcdVersion | undefined> {
  if (v === undefined) return undefined;
  const { z } = await import('zod');
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
