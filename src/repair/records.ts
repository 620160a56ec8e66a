/** Largest bridge written in one go (about 24 bytes a frame: 24 MB); a larger gap is a rebuild. */
export const MAX_BRIDGE_ENTRIES = 1_000_000n;
