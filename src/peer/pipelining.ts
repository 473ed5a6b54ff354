/**
 * How far each side of a transfer works ahead. Each side picks its own depth; the other cannot
 * tell, so this is tuning, not protocol.
 */

/** Sealed chunks kept in flight on each side: enough to overlap disk, crypto and socket. */
export const CHUNKS_IN_FLIGHT = 4;
