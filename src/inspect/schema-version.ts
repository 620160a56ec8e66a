/** Version of the JSON report (`inspect --json`); bumped on any incompatible change. Kept apart from
 * the zod schema so the analysis does not load zod. */
export const REPORT_SCHEMA_VERSION = 1;
