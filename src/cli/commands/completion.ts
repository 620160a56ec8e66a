import type { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { out } from '../output.js';
import type { DoctorCommand } from '../program.js';

/**
 * `wal-doctor completion bash|zsh`: a completion script made from the command tree itself, so it
 * offers exactly the commands and flags this version has; paths complete as files.
 */
export function registerCompletion(program: DoctorCommand): void {
  program
    .command('completion')
    .description('print a shell completion script: bash or zsh')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      '\nInstall:\n  bash: wal-doctor completion bash > /etc/bash_completion.d/wal-doctor   (or: source <(wal-doctor completion bash))\n  zsh:  wal-doctor completion zsh > "${fpath[1]}/_wal-doctor"   (then: autoload -U compinit && compinit)',
    )
    .action((shell: string) => {
      if (shell === 'bash') out(bashCompletion(program));
      else if (shell === 'zsh') out(zshCompletion(program));
      else throw new UsageError(`completion: unknown shell '${shell}' (bash or zsh)`);
    });
}

interface Spec {
  name: string;
  description: string;
  flags: { long: string | undefined; short: string | undefined; takesValue: boolean; description: string; choices: string[] }[];
}

function specs(program: Command): Spec[] {
  const flag = (o: Option) => ({
    long: o.long,
    short: o.short,
    takesValue: o.required || o.optional,
    description: o.description,
    choices: o.argChoices ?? (/--(write-out|output)$/.test(o.long ?? '') && /format/.test(o.flags) ? ['simple', 'table', 'json'] : /--etcd-version/.test(o.long ?? '') ? ['3.4', '3.5', '3.6', '3.7'] : []),
  });
  return program.commands.map((c) => ({ name: c.name(), description: c.description(), flags: [...c.options.map(flag), { long: '--help', short: '-h', takesValue: false, description: 'help', choices: [] }] }));
}

export function bashCompletion(program: Command): string {
  const s = specs(program);
  const cases = s
    .filter((c) => c.name !== 'completion')
    .map((c) => {
      const words = c.flags.flatMap((f) => [f.long, f.short].filter(Boolean)).join(' ');
      const valued = c.flags.filter((f) => f.takesValue);
      const choiceCases = valued
        .filter((f) => f.choices.length)
        .map((f) => `        ${[f.long, f.short].filter(Boolean).join('|')}) COMPREPLY=($(compgen -W "${f.choices.join(' ')}" -- "$cur")); return ;;`)
        .join('\n');
      const fileFlags = valued.filter((f) => !f.choices.length).flatMap((f) => [f.long, f.short].filter(Boolean));
      return `    ${c.name})
      case "$prev" in
${choiceCases ? choiceCases + '\n' : ''}${fileFlags.length ? `        ${fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;\n` : ''}      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${words}" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
      ;;`;
    })
    .join('\n');
  return `# bash completion for wal-doctor (wal-doctor completion bash)
_wal_doctor() {
  local cur prev cmd i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${s.map((c) => c.name).join(' ')} help --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
  esac
}
complete -o filenames -F _wal_doctor wal-doctor etcd-wal-doctor
`;
}

export function zshCompletion(program: Command): string {
  const q = (t: string) => t.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');
  const s = specs(program);
  const cmds = s.map((c) => `    '${c.name}:${q(c.description.split(/[;:(]/)[0]!.trim())}'`).join('\n');
  const cases = s
    .map((c) => {
      const args = c.flags
        .map((f) => {
          const names = [f.short, f.long].filter(Boolean) as string[];
          const excl = names.length > 1 ? `(${names.join(' ')})` : '';
          const action = !f.takesValue ? '' : f.choices.length ? `:value:(${f.choices.join(' ')})` : ':file:_files';
          const spec = names.length > 1 ? `{${names.join(',')}}` : names[0]!;
          return `        '${excl}'${spec}'[${q(f.description.slice(0, 70))}]${action}'`;
        })
        .join(' \\\n');
      const rest = c.name === 'completion' ? "'1:shell:(bash zsh)'" : "'*:path:_files'";
      return `      ${c.name})\n        _arguments -s \\\n${args} \\\n        ${rest}\n        ;;`;
    })
    .join('\n');
  return `#compdef wal-doctor etcd-wal-doctor
# zsh completion for wal-doctor (wal-doctor completion zsh > "\${fpath[1]}/_wal-doctor")
_wal_doctor() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'wal-doctor command' commands
    return
  fi
  local cmd=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
_wal_doctor "$@"
`;
}
