/**
 * Bumped when the `diff --json` report changes shape.
 * 2: `status` is consistent | behind | split | corrupt (was consistent | divergent), exit codes
 *    0/3/4/5 (was 0/1), and `problems` lists each finding with the members it concerns.
 */
export const DIFF_SCHEMA_VERSION = 2;
