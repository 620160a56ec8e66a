/** Bumped when the `diff --json` report changes shape. */
export const DIFF_SCHEMA_VERSION = 1;
