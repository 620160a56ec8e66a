#!/usr/bin/env node
// `npm run man`: write docs/wal-doctor.1 from the help of the built CLI (src/cli/man.ts).
// test/cli/man.test.ts fails when the committed page and the help differ.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { manPage } = await import(join(root, 'dist', 'src', 'cli', 'man.js'));
writeFileSync(join(root, 'docs', 'wal-doctor.1'), manPage());
console.log('wrote docs/wal-doctor.1');
