import { basename, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { assertNotExisting, assertOutside, enclosingDataDir } from '../../io/paths.js';
import { exportLineJson } from '../../export/line-json.js';
import { exportLines } from '../../export/ndjson.js';
import type { ExportLine } from '../../export/ndjson-schema.js';
import { ENTRY_TYPES, RECORD_TYPES } from '../../export/record-types.js';
import { maskSecretValues } from '../../format/payload/k8s.js';
import { FileSource } from '../../io/file-source.js';
import { locate } from '../../io/layout.js';
import { parseU64 } from '../options.js';
import { err, isTTY, outDrained } from '../output.js';
import { progressFor } from '../render/progress.js';
import type { ExportFlags } from './export.js';

const REQUEST_KINDS = [
  'noop', 'v2', 'conf_change', 'conf_change_v2', 'put', 'delete_range', 'range', 'txn', 'compaction',
  'lease_grant', 'lease_revoke', 'lease_checkpoint', 'alarm', 'authenticate', 'auth_enable', 'auth_disable',
  'auth_status', 'auth_user_add', 'auth_user_delete', 'auth_user_get', 'auth_user_change_password',
  'auth_user_grant_role', 'auth_user_revoke_role', 'auth_user_list', 'auth_role_list', 'auth_role_add',
  'auth_role_delete', 'auth_role_get', 'auth_role_grant_permission', 'auth_role_revoke_permission',
  'cluster_version_set', 'cluster_member_attr_set', 'downgrade_info_set', 'undecodable',
];

/** `wal-doctor export`: the WAL's records as NDJSON, on stdout or atomically into -o FILE. */
export async function exportAction(path: string, o: ExportFlags): Promise<void> {
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
  const target = o.output !== undefined ? resolve(o.output) : undefined;
  if (target !== undefined) {
    // never into what is read; an existing file only with --force
    assertOutside(target, '--output', [enclosingDataDir(layout.root), layout.kind === 'wal-dir' ? layout.root : undefined, layout.walDir]);
    if (!o.force) assertNotExisting(target, '--output', 'pass --force to replace it');
  }
  const segments = layout.segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
  // Lines going to the terminal would mix with the bar: it shows only with -o or a pipe.
  const progress = progressFor({ json: !o.output && isTTY.stdout() });
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
    const text = (line: ExportLine): string => {
      if (!o.showSecrets && line.payload) masked += maskSecretValues(line.payload);
      return exportLineJson(line) + '\n'; // JSON.stringify(line), byte for byte
    };
    if (target !== undefined) {
      // 0600 (records hold keys and values), written to a temp beside it and named only once
      // complete and fsynced: a failed export leaves no partial file, nor replaces one that
      // appeared meanwhile (unless --force).
      const utf8 = new TextEncoder();
      writeFileAtomic(
        target,
        (write) => {
          let batch = '';
          for (const line of lines) {
            batch += text(line);
            if (batch.length >= 65536) {
              write(utf8.encode(batch));
              batch = '';
            }
          }
          if (batch) write(utf8.encode(batch));
        },
        { mode: 0o600, noReplace: !o.force },
      );
    } else {
      // Batch lines into ~64 KiB writes and wait for 'drain': memory stays flat on a slow pipe.
      let batch = '';
      for (const line of lines) {
        batch += text(line);
        if (batch.length >= 65536) {
          await outDrained(batch);
          batch = '';
        }
      }
      if (batch) await outDrained(batch);
    }
    if (masked > 0) err(`wal-doctor: masked ${masked} Kubernetes Secret value${masked === 1 ? '' : 's'} stored without encryption at rest ("masked": true); --show-secrets prints them\n`);
  } finally {
    progress.done();
    for (const s of segments) s.source.close();
  }
}
