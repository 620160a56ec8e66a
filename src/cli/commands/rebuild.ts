import { resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { locate } from '../../io/layout.js';
import { assertNotExisting, assertOutside, enclosingDataDir, isInside, realish } from '../../io/paths.js';
import { hex16 } from '../../format/wal/names.js';
import { RESTORE_DEFAULTS } from '../../rebuild/ids.js';
import { restoreFromFile } from '../../rebuild/restore.js';
import { chooseSourceDb, writeUnapplied } from '../../rebuild/salvage.js';
import { type FormatFlags, addFormatOptions, outputFormat, parseEtcdVersion } from '../options.js';
import { writeJson } from '../render/json.js';
import { progressFor } from '../render/progress.js';

interface RebuildFlags extends FormatFlags {
  from: string;
  out: string;
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  skipHashCheck?: boolean;
  etcdVersion?: string;
  unapplied?: string;
}

export function registerRebuild(program: Command): void {
  const cmd = program
    .command('rebuild')
    .description('a new data dir from an `etcdctl snapshot save` file or from a damaged data dir\'s db (like etcdutl snapshot restore)')
    .requiredOption('--from <path>', 'a snapshot file, or a data dir whose db survived')
    .requiredOption('--out <dir>', 'the new data dir (must not exist or be empty)')
    .option('--name <name>', 'this member\'s name', RESTORE_DEFAULTS.name)
    .option('--initial-cluster <list>', 'name=peerURL,... of every member', RESTORE_DEFAULTS.initialCluster)
    .option('--initial-cluster-token <token>', 'the cluster token', RESTORE_DEFAULTS.initialClusterToken)
    .option('--initial-advertise-peer-urls <urls>', 'this member\'s peer URLs', RESTORE_DEFAULTS.initialAdvertisePeerUrls)
    .option('--skip-hash-check', 'rebuild from a snapshot file whose SHA-256 trailer is missing or wrong')
    .option('--etcd-version <v>', 'write what this etcd\'s restore writes: 3.4 or 3.5 (default: the db\'s writer)')
    .option('--unapplied <file>', 'with a data dir: where the WAL entries the db never applied go (default <out>.unapplied.ndjson; must not exist)');
  addFormatOptions(cmd, ['simple', 'json'], false)
    .action(async (o: RebuildFlags) => {
      o.json = outputFormat(o, ['simple', 'json']) === 'json';
      const v = await parseEtcdVersion(o.etcdVersion);
      if (v === '3.6' || v === '3.7') throw new UsageError(`--etcd-version: rebuild writes what etcd 3.4 or 3.5 restore writes (${v} reads the 3.5 form)`);
      const from = resolve(o.from);
      let isDir = false;
      try {
        isDir = statSync(from).isDirectory();
      } catch {
        // locate() / restoreFromFile give the one-line error
      }
      const out = resolve(o.out);
      const unappliedPath = resolve(o.unapplied ?? `${o.out.replace(/\/+$/, '')}.unapplied.ndjson`);
      // Outputs never go into what is read: the source data dir (or the one a --from file is in).
      const sourceDirs = [enclosingDataDir(from), ...(isDir ? [from] : [])];
      assertOutside(out, '--out', sourceDirs);
      if (isDir) {
        assertOutside(unappliedPath, '--unapplied', sourceDirs);
        if (isInside(realish(unappliedPath), realish(out))) throw new UsageError(`--unapplied ${unappliedPath} is inside --out ${out}: etcd must not find it in its data dir`);
        // The only record of writes the db never got: an earlier rebuild's must never be overwritten.
        assertNotExisting(unappliedPath, '--unapplied', 'it may hold the only record of writes an earlier rebuild found unapplied: move it away or name another file');
      }
      const flags = { name: o.name, initialCluster: o.initialCluster, initialClusterToken: o.initialClusterToken, initialAdvertisePeerUrls: o.initialAdvertisePeerUrls };
      let sourcePath = from;
      let unapplied: ReturnType<typeof writeUnapplied> | undefined;
      let consistentIndex: bigint | undefined;
      let target: '3.4' | '3.5' = v ?? '3.5';
      if (isDir) {
        const layout = locate(from);
        const src = chooseSourceDb(layout);
        sourcePath = src.path;
        consistentIndex = src.consistentIndex;
        if (!v) target = src.writer;
        const copying = progressFor(o);
        const res = restoreFromFile(sourcePath, { ...flags, target, skipHashCheck: true, ...copying.options }, out);
        copying.done();
        if (layout.segments.length > 0) {
          const walking = progressFor(o);
          unapplied = writeUnapplied(layout, src.consistentIndex, unappliedPath, walking.options.onProgress);
          walking.done();
        }
        report(res, o, sourcePath, target, consistentIndex, unapplied);
      } else {
        const copying = progressFor(o);
        const res = restoreFromFile(sourcePath, { ...flags, target, skipHashCheck: o.skipHashCheck ?? false, ...copying.options }, out);
        copying.done();
        report(res, o, sourcePath, target, undefined, undefined);
      }
    });
}

function report(
  res: ReturnType<typeof restoreFromFile>,
  o: RebuildFlags,
  source: string,
  target: string,
  consistentIndex: bigint | undefined,
  unapplied: ReturnType<typeof writeUnapplied> | undefined,
): void {
  const skipped = res.db.skippedCount ?? 0;
  if (o.json) {
    writeJson({
      dataDir: res.dataDir,
      source,
      target,
      memberId: hex16(res.memberId),
      clusterId: hex16(res.clusterId),
      members: res.plan.members.map((m) => ({ name: m.name, id: hex16(m.id), peerUrls: m.peerUrls })),
      consistentIndex: consistentIndex === undefined ? null : `${consistentIndex}`,
      trailer: res.trailer ? (res.trailer.ok ? 'sha256-ok' : 'sha256-mismatch') : 'none',
      dbItemsSkipped: skipped,
      unapplied: unapplied
        ? { path: unapplied.path, entries: unapplied.entries, damaged: unapplied.damaged, firstIndex: unapplied.firstIndex === undefined ? null : `${unapplied.firstIndex}`, lastIndex: unapplied.lastIndex === undefined ? null : `${unapplied.lastIndex}` }
        : null,
    });
    return;
  }
  const out = process.stdout;
  out.write(`rebuilt ${res.dataDir} from ${source} (as etcd ${target}'s snapshot restore writes it)\n`);
  out.write(`  member ${hex16(res.memberId)} (${o.name}) of cluster ${hex16(res.clusterId)}: ${res.plan.members.map((m) => `${m.name}=${hex16(m.id)}`).join(', ')}\n`);
  if (res.trailer) out.write(`  snapshot SHA-256 trailer: ${res.trailer.ok ? 'matches' : 'does not match (--skip-hash-check)'}\n`);
  if (consistentIndex !== undefined) out.write(`  the db had applied the log up to index ${consistentIndex}\n`);
  if (skipped > 0) out.write(`  ${skipped} damaged item(s) of the source db could not be copied (the rest was read by walking the tree, not the freelist)\n`);
  if (unapplied) {
    out.write(
      unapplied.entries === 0
        ? `  no WAL entry lies above the db's consistent index: nothing was left out (${unapplied.path} is empty)\n`
        : `  ${unapplied.entries} WAL entr${unapplied.entries === 1 ? 'y' : 'ies'} above it (index ${unapplied.firstIndex}..${unapplied.lastIndex}${unapplied.damaged ? `, ${unapplied.damaged} found past damage` : ''}) never reached the db: written to ${unapplied.path}\n`,
    );
  }
  out.write(`  start etcd with: --name ${o.name} --data-dir ${res.dataDir} --initial-cluster ${o.initialCluster} --initial-advertise-peer-urls ${o.initialAdvertisePeerUrls}\n`);
}
