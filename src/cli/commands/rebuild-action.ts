import type { Command } from 'commander';
import { runRebuild } from '../../rebuild/run.js';
import { outputFormat, parseEtcdVersion } from '../options.js';
import { out } from '../output.js';
import { json } from '../render/json.js';
import { progressFor } from '../render/progress.js';
import { renderRebuild, renderRebuildPlan } from '../render/rebuild.js';
import type { RebuildFlags } from './rebuild.js';

/** The flags whose defaults (etcdutl's) make a single member on localhost. */
const PEER_FLAGS = ['name', 'initialCluster', 'initialAdvertisePeerUrls'] as const;

/** `wal-doctor rebuild`: a new data dir (or with --dry-run its plan) from a snapshot file or a data dir's db. */
export async function rebuildAction(o: RebuildFlags, cmdSelf: Command): Promise<void> {
  const defaulted = PEER_FLAGS.filter((k) => cmdSelf.getOptionValueSource(k) === 'default');
  const asJson = outputFormat(o, ['simple', 'json']) === 'json';
  const etcdVersion = await parseEtcdVersion(o.etcdVersion);
  const flags = { name: o.name, initialCluster: o.initialCluster, initialClusterToken: o.initialClusterToken, initialAdvertisePeerUrls: o.initialAdvertisePeerUrls };
  const r = runRebuild(
    {
      ...flags,
      from: o.from,
      out: o.out,
      ...(o.unapplied !== undefined ? { unapplied: o.unapplied } : {}),
      ...(etcdVersion !== undefined ? { etcdVersion } : {}),
      ...(o.skipHashCheck !== undefined ? { skipHashCheck: o.skipHashCheck } : {}),
      ...(o.salvage !== undefined ? { salvage: o.salvage } : {}),
      ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    },
    {
      progress: () => {
        const bar = progressFor({ json: asJson });
        return { ...bar.options, done: () => bar.done() };
      },
    },
  );
  const said =
    r.outcome === 'dry-run'
      ? renderRebuildPlan(r.plan, flags, r.source, r.target, r.consistentIndex, r.old, defaulted, r.outDir)
      : renderRebuild(r.result, flags, r.source, r.target, r.consistentIndex, r.unapplied, r.old, defaulted, r.alarms);
  out(asJson ? json(said.json) : said.text);
}
