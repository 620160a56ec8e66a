import type { DoctorCommand } from '../program.js';
import { type FormatFlags, addFormatOptions } from '../options.js';

/** `wal-doctor diff`: its flags and help; what it does is in diff-action.ts, loaded when it runs. */
export function registerDiff(program: DoctorCommand): void {
  const cmd = program
    .command('diff')
    .description('compare members\' data dirs: first divergent raft index, entries one lacks, HardState/snapshots, KV hash per member; exit 0 consistent, 3 behind, 4 split, 5 corrupt')
    .argument('<data-dir>', 'a member\'s data dir')
    .argument('<data-dir...>', 'the other members\' data dirs')
    .option('--revision <rev>', 'revision for the KV hashes (default: the highest revision every member\'s db has)');
  addFormatOptions(cmd)
    .addHelpText(
      'after',
      `
Exit codes:
  0  consistent: the members agree on every entry they share and on the KV hash
  3  behind: a member's log is a prefix of the others' (it was stopped); started, it catches up
  4  split: a member holds an uncommitted tail of an older term; raft replaces it when it rejoins
  5  corrupt: committed entries, same-term entries or the KV hashes differ, or a log has a gap:
     replace that member (etcdctl member remove / add) or restore it from a good member's snapshot
  The worst one found decides; 64 usage, 66 not found, 74 I/O as for the other commands.

Examples:
  wal-doctor diff /backup/a /backup/b /backup/c
  wal-doctor diff -w json a b c | jq '.problems[] | {kind, members}'`,
    )
    .action(async (first: string, rest: string[], o: FormatFlags & { revision?: string }) => (await import('./diff-action.js')).diffAction(first, rest, o));
}
