/** Flag validation shared by the commands (zod turns flag strings into typed values). */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { ETCD_VERSIONS, type EtcdVersion } from '../inspect/predict.js';

export const EtcdVersionFlag = z.enum(ETCD_VERSIONS);

export function parseEtcdVersion(v: string | undefined): EtcdVersion | undefined {
  if (v === undefined) return undefined;
  const r = EtcdVersionFlag.safeParse(v);
  if (!r.success) throw new UsageError(`--etcd-version must be one of ${ETCD_VERSIONS.join(', ')}, got '${v}'`);
  return r.data;
}

export const U64Flag = z.string().regex(/^\d+$/, 'expected a non-negative integer').transform((s) => BigInt(s));

export function parseU64(name: string, v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const r = U64Flag.safeParse(v);
  if (!r.success) throw new UsageError(`${name} must be a non-negative integer, got '${v}'`);
  return r.data;
}

/** The options inspect and verify share, and the analysis they both run. */
export interface AnalysisFlags {
  json?: boolean;
  walDir?: string;
  etcdVersion?: string;
}

export function analysisOptions(o: AnalysisFlags): { walDir?: string; etcdVersion?: EtcdVersion } {
  const v = parseEtcdVersion(o.etcdVersion);
  return { ...(o.walDir ? { walDir: o.walDir } : {}), ...(v ? { etcdVersion: v } : {}) };
}
