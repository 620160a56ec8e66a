#!/usr/bin/env node
// `prepack` (npm pack / npm publish): build dist/ from scratch, so the tarball holds exactly what
// the current sources compile to — never nothing (a fresh clone has no dist/), never a module
// left over from an older build.
//
// Why not `prepare`: npm would keep it in the published package.json, and npm 11 lists a package's
// `prepare` among the install scripts a user must approve (`npm install -g` of our tarball warned
// "install scripts not yet covered by allowScripts"), though a registry or tarball install never
// needs it: the package ships dist/src. `npm start` and `npm test` build a checkout themselves.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
