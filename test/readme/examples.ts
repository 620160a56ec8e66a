// Every example in README.md, as something a test can run: the fixtures it needs (unpacked under
// the names the README uses), then the shell lines exactly as printed after `$ `. The README marks
// each block with `<!-- example: <id> -->`; test/readme/golden/<id>.txt holds what it prints.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../support/fixtures.js';

export interface Example {
  id: string;
  /** Fixtures to unpack into the working dir: [fixture, name] (a cluster fixture unpacks its members). */
  fixtures: [string, string][];
  /** Shell lines run in order in the working dir, each printed after `$ ` with its output. */
  commands: string[];
  /** Only the last `tail` lines of the output (the README quotes the end of a long report). */
  tail?: number;
  /** Needs a program that may be missing (jq). */
  needs?: string[];
  /** An explore screen rendered at 80x24 instead of commands: the keys pressed and what must show. */
  explore?: { fixture: string; keys: string[]; until: RegExp };
}

/** Unpack fixture `name` into `dir/as` (a cluster fixture's a/ b/ c/ go straight into dir when `as` is '.'). */
export function unpack(dir: string, name: string, as: string): void {
  const target = as === '.' ? dir : join(dir, as);
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-C', target, '-xzf', join(FIXTURES_DIR, `${name}.tar.gz`)]);
}

export const EXAMPLES: Example[] = [
  { id: 'inspect', fixtures: [['v35-garbage-tail', 'v35-garbage-tail']], commands: ['wal-doctor inspect v35-garbage-tail'] },
  { id: 'inspect-db-table', fixtures: [['v35-workload', 'v35-workload']], commands: ['wal-doctor inspect -w table v35-workload/member/snap/db'] },
  { id: 'timeline', fixtures: [['v35-cluster-of-3-rejoined', '.']], commands: ['wal-doctor inspect --timeline a'] },
  { id: 'timeline-k8s', fixtures: [['v35-k8s', 'v35-k8s']], commands: ['wal-doctor inspect --timeline v35-k8s | tail -9'] },
  {
    id: 'verify',
    fixtures: [['v35-workload', 'v35-workload'], ['v35-torn-tail', 'v35-torn-tail'], ['v35-bitflip-mid', 'v35-bitflip-mid']],
    commands: ['wal-doctor verify v35-workload; echo "exit $?"', 'wal-doctor verify v35-torn-tail; echo "exit $?"', 'wal-doctor verify v35-bitflip-mid; echo "exit $?"'],
  },
  { id: 'verify-table', fixtures: [['v35-torn-tail', 'v35-torn-tail']], commands: ['wal-doctor verify -w table v35-torn-tail'] },
  { id: 'export', fixtures: [['v35-workload', 'v35-workload']], commands: ["wal-doctor export v35-workload --from-index 5 --to-index 5 --max-value-bytes 24 | jq ."], needs: ['jq'] },
  { id: 'export-k8s', fixtures: [['v35-k8s', 'v35-k8s']], commands: ["wal-doctor export v35-k8s --k8s --key-prefix /registry/secrets/ | jq -c '{index, summary, k8s}'"], needs: ['jq'] },
  { id: 'explore-overview', fixtures: [], commands: [], explore: { fixture: 'v35-bitflip-mid', keys: [], until: /Verdict:/ } },
  { id: 'explore-segments', fixtures: [], commands: [], explore: { fixture: 'v35-bitflip-mid', keys: ['\r'], until: /crc-mismatch/ } },
  { id: 'explore-records', fixtures: [], commands: [], explore: { fixture: 'v35-bitflip-mid', keys: ['\r', '\r', 'd'], until: /good data ends here: crc-mismatch/ } },
  { id: 'explore-detail', fixtures: [], commands: [], explore: { fixture: 'v35-bitflip-mid', keys: ['\r', '\r', 'd', '\r'], until: /damaged: stored crc/ } },
  { id: 'repair-dry-run', fixtures: [['v35-bitflip-mid', 'v35-bitflip-mid']], commands: ['wal-doctor repair --dry-run v35-bitflip-mid; echo "exit $?"'] },
  {
    id: 'repair-bridge',
    fixtures: [['v35-bitflip-mid', 'v35-bitflip-mid']],
    commands: ['wal-doctor repair --yes --allow-entry-loss --bridge --backup-dir bitflip-backup v35-bitflip-mid; echo "exit $?"', 'wal-doctor undo bitflip-backup; echo "exit $?"'],
  },
  { id: 'repair-auto', fixtures: [['v35-torn-tail', 'v35-torn-tail']], commands: ['wal-doctor repair --auto v35-torn-tail; echo "exit $?"'] },
  { id: 'diff-behind', fixtures: [['v35-cluster-of-3-diverged', '.']], commands: ['wal-doctor diff a b c; echo "exit $?"'] },
  { id: 'diff-split', fixtures: [['v35-cluster-of-3-term-split', '.']], commands: ['wal-doctor diff a b c; echo "exit $?"'] },
  { id: 'diff-rejoined', fixtures: [['v35-cluster-of-3-rejoined', '.']], commands: ['wal-doctor diff a b c; echo "exit $?"'], tail: 4 },
  {
    id: 'rebuild',
    fixtures: [['v35-crash', 'src']],
    commands: [
      'wal-doctor rebuild --dry-run --from src --out new',
      'wal-doctor rebuild --from src --out new --name node1 --initial-cluster node1=http://10.0.0.1:2380 --initial-advertise-peer-urls http://10.0.0.1:2380; echo "exit $?"',
    ],
  },
  { id: 'version', fixtures: [], commands: ['wal-doctor --version'] },
];
