// The layers of src/, enforced on every import (`npm run lint`, part of `npm test`, zero warnings):
// codecs know nothing of files, the analysis nothing of the terminal, commands stay thin.
//
//   format/   pure codecs                       imports only format/
//   export/   record -> JSON                    format/, errors
//   io/       file access, locks, backups       format/, errors, version
//   inspect/  the one analysis                  format/, export/, io/, errors, version
//   repair/ rebuild/ diff/                      the above and inspect/ (never each other, never cli/)
//   tui/      ink screens                       the above, repair/ (its plan), cli/render/ (the words)
//   cli/      commander and renderers           anything
//
// Files are touched only in io/: no layer below cli/ imports node:fs.
// process (exit codes, output, arguments, environment) belongs to cli/main.ts and cli/output.ts:
// commands return their exit code and print through output.ts. io/ may read its own test hooks and
// helper environment from process.env. Only these boundary rules: types and unused code are tsc's
// strict mode.
import tseslint from 'typescript-eslint';

const LAYERS = ['format', 'export', 'io', 'inspect', 'repair', 'rebuild', 'diff', 'tui', 'cli'];
const ALLOWED = {
  format: ['format'],
  export: ['format', 'errors'],
  io: ['format', 'errors', 'version'],
  inspect: ['format', 'export', 'io', 'errors', 'version'],
  repair: ['format', 'export', 'io', 'inspect', 'errors', 'version'],
  rebuild: ['format', 'export', 'io', 'inspect', 'errors', 'version'],
  diff: ['format', 'export', 'io', 'inspect', 'errors', 'version'],
  tui: ['format', 'export', 'io', 'inspect', 'repair', 'errors', 'version', 'cli/render'],
};

const forbidden = (layer) => {
  const ok = ALLOWED[layer];
  const out = [];
  for (const l of [...LAYERS, 'errors', 'version']) {
    if (l === layer || ok.includes(l)) continue;
    if (l === 'errors' || l === 'version') out.push(`**/../${l}.js`);
    else if (l === 'cli' && ok.includes('cli/render')) out.push('**/cli/commands/**', '**/cli/main.js', '**/cli/options.js');
    else out.push(`**/../${l}/**`, `**/../../${l}/**`);
  }
  return out;
};

const PROCESS_OUTSIDE_CLI = ['exit', 'exitCode', 'stdout', 'stderr', 'stdin', 'argv'].map((property) => ({
  object: 'process',
  property,
  message: 'exit codes, output and arguments belong to cli/',
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.bench/**', 'bench/**', 'test/**', 'scripts/**', 'tools/**', 'fixtures/**', 'bin/**', 'docs/**', '*.mjs'] },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    languageOptions: { parser: tseslint.parser },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  ...Object.keys(ALLOWED).map((layer) => ({
    files: [`src/${layer}/**/*.ts`, `src/${layer}/**/*.tsx`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: forbidden(layer), message: `${layer}/ may use only ${ALLOWED[layer].join(', ')}` }],
          paths: layer === 'io' ? [] : ['node:fs', 'node:fs/promises', 'fs'].map((name) => ({ name, message: 'files are touched only in io/' })),
        },
      ],
      'no-restricted-properties': ['error', ...PROCESS_OUTSIDE_CLI, ...(layer === 'io' ? [] : [{ object: 'process', property: 'env', message: 'the environment is read by cli/ (io/ reads its own hooks)' }])],
    },
  })),
  {
    files: ['src/cli/**/*.ts'],
    ignores: ['src/cli/main.ts', 'src/cli/output.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['exit', 'exitCode', 'stdout', 'stderr', 'stdin', 'argv', 'env'].map((property) => ({
          object: 'process',
          property,
          message: 'commands return their exit code (main.ts sets it) and print through cli/output.ts',
        })),
      ],
    },
  },
);
