/**
 * Everything the bbolt reader can find wrong with a file, as data.
 *
 * Every finding names where it is (`offset`: absolute byte offset in the file; `pgid` when a page is
 * involved) and, when there is one, what was expected and what was found. Wording for humans lives
 * in the CLI's renderers, not here.
 */

/** Which of the two meta pages. */
export type MetaSlot = 0 | 1;

export type BboltFinding =
  /** The file is shorter than two pages (bbolt: `file size too small`). */
  | { code: 'bbolt-file-too-small'; offset: number; expected: number; found: number }
  /** Meta page magic is not 0xED0CDAED (bbolt: `invalid database`). */
  | { code: 'bbolt-bad-magic'; meta: MetaSlot; offset: number; expected: number; found: number }
  /** The meta magic is byte-swapped: the file was written on a big-endian host (s390x); not read. */
  | { code: 'bbolt-big-endian'; meta: MetaSlot; offset: number }
  /** Meta page version is not 2 (bbolt: `version mismatch`). */
  | { code: 'bbolt-bad-version'; meta: MetaSlot; offset: number; expected: number; found: number }
  /** FNV-1a checksum of the meta does not match (bbolt: `checksum error`). */
  | { code: 'bbolt-meta-checksum'; meta: MetaSlot; offset: number; expected: bigint; found: bigint }
  /** Page size in the meta is not a power of two in the range bbolt can have written. */
  | { code: 'bbolt-bad-page-size'; meta: MetaSlot; offset: number; found: number }
  /** The meta with the higher txid (or the only one with a plausible header) was unusable; the other is used. */
  | { code: 'bbolt-meta-fallback'; offset: number; used: MetaSlot; rejected: MetaSlot; usedTxid: bigint }
  /** Neither meta page is valid: nothing in the file can be located. */
  | { code: 'bbolt-no-valid-meta'; offset: number }
  /** The two metas disagree on the page size. */
  | { code: 'bbolt-meta-page-size-mismatch'; offset: number; expected: number; found: number }
  /** meta.pgid (high-water mark) says the file has more pages than it has bytes for. */
  | { code: 'bbolt-truncated'; offset: number; expected: number; found: number; pgid: number }
  /** A page id points at or beyond the high-water mark (bbolt: `out of bounds`). */
  | { code: 'bbolt-page-out-of-bounds'; pgid: bigint; offset: number; highWater: number; from?: number }
  /** A page below the high-water mark lies (partly) beyond the end of the file. */
  | { code: 'bbolt-page-past-eof'; pgid: number; offset: number; expected: number; found: number }
  /** A page's overflow count runs past the high-water mark or the end of the file. */
  | { code: 'bbolt-page-overflow-out-of-bounds'; pgid: number; offset: number; overflow: number; highWater: number }
  /** The id in a page header is not the page's position. */
  | { code: 'bbolt-page-id-mismatch'; pgid: number; offset: number; expected: bigint; found: bigint }
  /** A page reached through a tree is not a branch/leaf page (bbolt: `invalid type`). */
  | { code: 'bbolt-page-bad-type'; pgid: number; offset: number; expected: string; found: number }
  /** A page is referenced more than once (a shared page or a cycle; bbolt: `multiple references`). */
  | { code: 'bbolt-page-multiple-references'; pgid: number; offset: number; from?: number }
  /** A tree is deeper than any real bbolt tree can be; the walk stops descending there. */
  | { code: 'bbolt-tree-too-deep'; pgid: number; offset: number; depth: number }
  /** A branch page with no elements. */
  | { code: 'bbolt-branch-empty'; pgid: number; offset: number }
  /** The element array (count × 16 bytes) does not fit in the page. */
  | { code: 'bbolt-element-array-overflow'; pgid: number; offset: number; count: number; expected: number; found: number }
  /** An element's key/value (pos + ksize + vsize) runs past the end of its page (+ overflow). */
  | { code: 'bbolt-element-out-of-bounds'; pgid: number; offset: number; index: number; expected: number; found: number }
  /** A key is empty. */
  | { code: 'bbolt-empty-key'; pgid: number; offset: number; index: number }
  /** Keys are not strictly ascending (within a page or across pages of one tree). */
  | { code: 'bbolt-keys-out-of-order'; pgid: number; offset: number; index: number }
  /** A key outside the range its parent branch assigns (below the branch key, or not below the next one). */
  | { code: 'bbolt-key-outside-parent-range'; pgid: number; offset: number; index: number }
  /** An element of the root bucket tree lacks the bucket flag. */
  | { code: 'bbolt-root-item-not-bucket'; pgid: number; offset: number; index: number; found: number }
  /** A bucket value is shorter than its 16-byte header, or its inline page is malformed. */
  | { code: 'bbolt-bad-bucket-value'; offset: number; bucket: string; expected: number; found: number }
  /** An inline bucket page does not carry the leaf flag or has an overflow. */
  | { code: 'bbolt-bad-inline-page'; offset: number; bucket: string; flags: number; overflow: number }
  /** The meta's freelist page is out of bounds, not a freelist page, or its ids do not fit. */
  | { code: 'bbolt-bad-freelist'; pgid: number; offset: number; reason: 'type' | 'bounds' | 'count'; found: number }
  /** A freelist id points at or beyond the high-water mark. */
  | { code: 'bbolt-freelist-out-of-bounds'; pgid: bigint; offset: number; highWater: number }
  /** A page id listed twice in the freelist (bbolt: `already freed`). */
  | { code: 'bbolt-page-already-freed'; pgid: number; offset: number }
  /** A page reachable from a tree is listed as free (bbolt: `reachable freed`). */
  | { code: 'bbolt-page-reachable-freed'; pgid: number; offset: number }
  /** A page below the high-water mark is neither reachable nor free (bbolt: `unreachable unfreed`). */
  | { code: 'bbolt-page-unreachable-unfreed'; pgid: number; offset: number }
  /** Too many findings; the rest were dropped (bounded memory on a file full of garbage). */
  | { code: 'bbolt-too-many-findings'; offset: number; dropped: number }
  /** A `snapshot save` file whose size says it has no SHA-256 trailer (size % 512 != 32). */
  | { code: 'bbolt-snapshot-no-trailer'; offset: number; found: number }
  /** The 32-byte trailer is not the SHA-256 of the bytes before it. */
  | { code: 'bbolt-snapshot-hash-mismatch'; offset: number; expected: string; found: string };

export type BboltFindingCode = BboltFinding['code'];

/**
 * Findings inside the bucket tree: a reader of the tree cannot reach what lies behind them (a page
 * zeroed, cut off, of the wrong type, an element running off its page), so an unknown number of
 * keys is gone from any copy made by walking it. Damage outside the tree (the freelist, pages
 * neither reachable nor free, keys out of order) loses nothing a walk would keep.
 */
export const TREE_LOSS_CODES: ReadonlySet<BboltFindingCode> = new Set<BboltFindingCode>([
  'bbolt-truncated',
  'bbolt-page-out-of-bounds',
  'bbolt-page-past-eof',
  'bbolt-page-overflow-out-of-bounds',
  'bbolt-page-bad-type',
  'bbolt-tree-too-deep',
  'bbolt-element-array-overflow',
  'bbolt-element-out-of-bounds',
  'bbolt-bad-bucket-value',
  'bbolt-bad-inline-page',
]);

/** A sink for findings; decoders call it instead of throwing. */
export type ReportFinding = (finding: BboltFinding) => void;

/**
 * Collects findings with a cap, so a file full of garbage cannot grow memory without bound.
 * Identical findings (same code, pgid, offset, index) are kept once: walking the same damaged page
 * from two entry points (items() then check()) should not double the report.
 */
export class FindingLog {
  readonly findings: BboltFinding[] = [];
  private readonly seen = new Set<string>();
  private dropped = 0;

  constructor(private readonly limit = 10_000) {}

  readonly report: ReportFinding = (finding) => {
    const f = finding as { code: string; offset: number; pgid?: number | bigint; index?: number; meta?: number };
    const key = `${f.code}|${f.offset}|${String(f.pgid ?? '')}|${f.index ?? ''}|${f.meta ?? ''}`;
    if (this.seen.has(key)) return;
    if (this.findings.length >= this.limit) {
      this.dropped++;
      const last = this.findings[this.findings.length - 1];
      if (last?.code === 'bbolt-too-many-findings') last.dropped = this.dropped;
      else this.findings.push({ code: 'bbolt-too-many-findings', offset: 0, dropped: this.dropped });
      return;
    }
    this.seen.add(key);
    this.findings.push(finding);
  };
}
