import { closeSync, createWriteStream, fchmodSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { IoError, UsageError, fsError } from '../../errors.js';
import { fsyncDir, tempPathFor } from '../../io/atomic.js';
import { assertNotExisting, assertOutside, enclosingDataDir } from '../../io/paths.js';
import { ENTRY_TYPES, RECORD_TYPES, exportLines } from '../../export/ndjson.js';
import { maskSecretValues } from '../../format/payload/k8s.js';
import { FileSource } from '../../io/file-source.js';
import { locate } from '../../io/layout.js';
import { parseU64 } from '../options.js';
import { progressFor } from '../render/progress.js';

const REQUEST_KINDS = [
  'noop', 'v2', 'conf_change', 'conf_change_v2', 'put', 'delete_range', 'range', 'txn', 'compaction',
  'lease_grant', 'lease_revoke', 'lease_checkpoint', 'alarm', 'authenticate', 'auth_enable', 'auth_disable',
  'auth_status', 'auth_user_add', 'auth_user_delete', 'auth_user_get', 'auth_user_change_password',
  'auth_user_grant_role', 'auth_user_revoke_role', 'auth_user_list', 'auth_role_list', 'auth_role_add',
  'auth_role_delete', 'auth_role_get', 'auth_role_grant_permission', 'auth_role_revoke_permission',
  'cluster_version_set', 'cluster_member_attr_set', 'downgrade_info_set', 'undecodable',
];

interface ExportFlags {
  output?: string;
  fromIndex?: string;
  toIndex?: string;
  type?: string;
  keyPrefix?: string;
  includeDamaged?: boolean;
  maxValueBytes?: string;
  walDir?: string;
  k8s?: boolean;
  force?: boolean;
  showSecrets?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('every WAL record as NDJSON (one JSON object per line) in log order')
    .argument('<path>', 'data dir, member dir, wal dir or one .wal file')
    .option('-o, --output <file>', 'write to FILE instead of stdout (created 0600: it may hold secrets; never inside the data dir read)')
    .option('--force', 'with -o: replace FILE if it exists')
    .option('--from-index <n>', 'only entries with index >= n')
    .option('--to-index <n>', 'only entries with index <= n')
    .option('--type <list>', `comma list of record types (${RECORD_TYPES.join(', ')}) and/or request kinds (put, txn, delete_range, noop, v2, conf_change, lease_grant, ...)`)
    .option('--key-prefix <prefix>', 'only entries whose request touches a key starting with this prefix')
    .option('--include-damaged', 'go on past the first damage, marking what follows as damaged')
    .option('--max-value-bytes <n>', 'render at most n bytes of each value (the length is always given)')
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir')
    .option('--k8s', 'add `k8s` to entries writing keys under /registry/: resource, namespace, name, and the stored object decoded (apiVersion, kind, metadata; encrypted values: provider and key name)')
    .option('--show-secrets', 'print unencrypted Kubernetes Secret values (/registry/secrets/...) instead of <masked: N bytes>')
    .addHelpText(
      'after',
      `
Kubernetes Secrets written without encryption at rest are masked by default: their values read
"<masked: N bytes>" with "masked": true, and a note on stderr counts them. --show-secrets prints them.

Examples:
  wal-doctor export /var/lib/etcd > wal.ndjson
  wal-doctor export --from-index 1000 --type put,txn --key-prefix /registry/pods/ /var/lib/etcd
  wal-doctor export --k8s /var/lib/etcd | jq -c 'select(.k8s) | {index, summary}'
  wal-doctor export -o /root/wal.ndjson --include-damaged /var/lib/etcd`,
    )
    .action(async (path: string, o: ExportFlags) => {
      const types = o.type?.split(',').map((t) => t.trim()).filter(Boolean);
      for (const t of types ?? []) {
        if (!(RECORD_TYPES as readonly string[]).includes(t) && !REQUEST_KINDS.includes(t) && !(ENTRY_TYPES as readonly string[]).includes(t)) {
          throw new UsageError(`--type: unknown type '${t}' (record types: ${RECORD_TYPES.join(', ')}; request kinds: ${REQUEST_KINDS.join(', ')})`);
        }
      }
      const fromIndex = await parseU64('--from-index', o.fromIndex);
      const toIndex = await parseU64('--to-index', o.toIndex);
      const maxValueBytes = await parseU64('--max-value-bytes', o.maxValueBytes);
      const layout = locate(path, o.walDir ? { walDir: o.walDir } : {});
      if (layout.segments.length === 0) throw new UsageError(`${layout.root}: no WAL segment to export (export reads *.wal files)`);
      const segments = layout.segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
      const file = o.output !== undefined ? openOutput(resolve(o.output), o.force ?? false, [enclosingDataDir(layout.root), layout.kind === 'wal-dir' ? layout.root : undefined, layout.walDir]) : undefined;
      const out: Writable = file ? createWriteStream('', { fd: file.fd, autoClose: false }) : process.stdout;
      // Lines going to the terminal would mix with the bar: it shows only with -o or a pipe.
      const progress = progressFor({ json: !o.output && Boolean(process.stdout.isTTY) });
      let complete = false;
      let masked = 0;
      try {
        const lines = exportLines(segments, {
          ...progress.options,
          ...(fromIndex !== undefined ? { fromIndex } : {}),
          ...(toIndex !== undefined ? { toIndex } : {}),
          ...(types ? { types } : {}),
          ...(o.keyPrefix !== undefined ? { keyPrefix: Buffer.from(o.keyPrefix, 'utf8') } : {}),
          includeDamaged: o.includeDamaged ?? false,
          k8s: o.k8s ?? false,
          describe: maxValueBytes !== undefined ? { maxValueBytes: Number(maxValueBytes) } : {},
        });
        // Batch lines into ~64 KiB writes and wait for 'drain': memory stays flat on a slow pipe.
        let batch = '';
        for (const line of lines) {
          if (!o.showSecrets && line.payload) masked += maskSecretValues(line.payload);
          batch += JSON.stringify(line) + '\n';
          if (batch.length >= 65536) {
            if (!out.write(batch)) await new Promise((r) => out.once('drain', r));
            batch = '';
          }
        }
        if (batch) out.write(batch);
        complete = true;
        if (masked > 0) process.stderr.write(`wal-doctor: masked ${masked} Kubernetes Secret value${masked === 1 ? '' : 's'} stored without encryption at rest ("masked": true); --show-secrets prints them\n`);
      } finally {
        progress.done();
        for (const s of segments) s.source.close();
        if (file) {
          const ended = new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(fsError(e, file.path, 'writing')) : res())));
          if (complete) {
            await ended;
            file.commit();
          } else {
            await ended.catch(() => undefined);
            file.discard();
          }
        }
      }
    });
}

interface OutputFile {
  path: string;
  fd: number;
  /** fsync, then give the temp its real name (link: never over a file that appeared meanwhile; --force: rename over it) */
  commit(): void;
  /** remove the temp: a failed export leaves no partial file */
  discard(): void;
}

/**
 * `-o FILE`: refused inside the data dir read, and when FILE exists (unless --force). Written to a
 * temp beside it, mode 0600 (records can hold secrets: values, lease IDs, 3.4's plaintext
 * passwords are masked but keys and values are not), and named FILE only once complete.
 */
function openOutput(path: string, force: boolean, sources: (string | undefined)[]): OutputFile {
  assertOutside(path, '--output', sources);
  if (!force) assertNotExisting(path, '--output', 'pass --force to replace it');
  const tmp = tempPathFor(path);
  try {
    unlinkSync(tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, tmp, 'removing an old temp file');
  }
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    fchmodSync(fd, 0o600); // whatever the umask
  } catch (e) {
    throw fsError(e, tmp, 'creating the output file');
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    path,
    fd,
    commit() {
      try {
        fsyncSync(fd);
        close();
        if (force) renameSync(tmp, path);
        else {
          linkSync(tmp, path);
          unlinkSync(tmp);
        }
      } catch (e) {
        this.discard();
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new IoError(`${path}: appeared while exporting; not replacing it (pass --force to)`);
        throw fsError(e, path, 'naming the finished export');
      }
      fsyncDir(dirname(path));
    },
    discard() {
      close();
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    },
  };
}
