// Real files written by other projects, read in place from ../shared/external (never copied into
// this repository). See ../shared/external/README.md for where each comes from.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT } from './fixtures.js';

/** ../shared/external next to the repository. */
export const EXTERNAL = process.env['WAL_DOCTOR_EXTERNAL'] ?? resolve(REPO_ROOT, '..', 'shared', 'external');

/**
 * Path of a file under shared/external, or undefined after marking the test skipped. With CI=true a
 * missing file fails the test instead: CI must not pass by skipping.
 */
export function externalFile(t: TestContext, rel: string): string | undefined {
  const p = resolve(EXTERNAL, rel);
  if (existsSync(p)) return p;
  if (process.env['CI'] === 'true') assert.fail(`${p} is missing (CI=true): this test needs shared/external`);
  t.skip(`NOT RUN: ${p} is missing (shared/external not available here)`);
  return undefined;
}
