import { RECORD_TYPES } from '../../export/record-types.js';
import type { DoctorCommand } from '../program.js';

export interface ExportFlags {
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

/** `wal-doctor export`: its flags and help; what it does is in export-action.ts, loaded when it runs. */
export function registerExport(program: DoctorCommand): void {
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
    .action(async (path: string, o: ExportFlags) => (await import('./export-action.js')).exportAction(path, o));
}
