/**
 * The man page, made from the help itself (`npm run man` writes docs/wal-doctor.1; a test checks
 * the committed page against the help of this build): NAME, SYNOPSIS, the program's help, then one
 * section per command with its help as printed at 80 columns.
 */
import type { Command } from 'commander';
import { TOOL_VERSION } from '../version.js';
import { buildProgram } from './program.js';

/** roff-escape a preformatted line: backslashes, hyphens, and a leading `.` or `'`. */
function roff(line: string): string {
  const t = line.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

function helpOf(path: string[]): string {
  let out = '';
  const program = buildProgram({ helpWidth: 80, writeOut: (s) => (out += s) });
  let cmd: Command = program;
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
  cmd.outputHelp();
  return out;
}

export function manPage(): string {
  const program = buildProgram({ helpWidth: 80 });
  const lines: string[] = [];
  const pre = (text: string) => {
    lines.push('.nf');
    for (const l of text.replace(/\n+$/, '').split('\n')) lines.push(roff(l));
    lines.push('.fi');
  };
  lines.push(`.TH WAL\\-DOCTOR 1 "" "wal-doctor ${TOOL_VERSION}" "User Commands"`);
  lines.push('.\\" Generated from `wal-doctor --help` by `npm run man` (src/cli/man.ts): do not edit.');
  lines.push('.SH NAME');
  lines.push('wal\\-doctor \\- examine and repair etcd data directories after crashes');
  lines.push('.SH SYNOPSIS');
  lines.push('.B wal\\-doctor');
  lines.push('.I command');
  lines.push('[options]');
  lines.push('.I path');
  lines.push('.SH DESCRIPTION');
  pre(helpOf([]));
  lines.push('.SH COMMANDS');
  for (const c of program.commands) {
    lines.push(`.SS ${roff(c.name())}`);
    pre(helpOf([c.name()]));
  }
  lines.push('.SH ENVIRONMENT');
  lines.push('.TP');
  lines.push('.B NO_COLOR');
  lines.push('Set to anything: no colour, even on a terminal.');
  lines.push('.TP');
  lines.push('.B WAL_DOCTOR_DEBUG');
  lines.push('Set: an internal error prints its stack trace, and a command that runs in a child node says so.');
  lines.push('.TP');
  lines.push('.B WAL_DOCTOR_LEAN_FROM_BYTES');
  lines.push('verify, inspect, export and diff run in a child node with a smaller young generation (lower peak memory) when the dirs named hold this many bytes of WAL and db or more; default 268435456 (256 MiB).');
  lines.push('.SH SEE ALSO');
  lines.push('.BR etcd (1),');
  lines.push('.BR etcdctl (1),');
  lines.push('.BR etcdutl (1)');
  return lines.join('\n') + '\n';
}
