/**
 * The names export gives a record (`type`) and an entry (`entryType`), which `--type` filters on.
 * A module of their own so `wal-doctor export --help`, which lists them, loads none of the decoder.
 */
export const RECORD_TYPES = ['metadata', 'entry', 'state', 'crc', 'snapshot', 'unknown', 'undecodable'] as const;
export const ENTRY_TYPES = ['EntryNormal', 'EntryConfChange', 'EntryConfChangeV2'] as const;
