/**
 * The project's one protobuf wire reader, and the errors etcd's gogoproto-generated code returns.
 *
 * How the wire format works: a message is a run of fields, each a varint tag (field number << 3 |
 * wire type) and a value: 0 varint (1..10 bytes, 7 bits each, low group first), 1 eight bytes,
 * 2 a varint length and that many bytes (bytes, strings, embedded messages, packed lists),
 * 3/4 start/end of a group (obsolete; only ever skipped), 5 four bytes. 6 and 7 are not wire types.
 *
 * Why it matters how reading fails: etcd decides what to do by the error its generated
 * `Unmarshal` returns. A cut varint or a length past the end is `io.ErrUnexpectedEOF`, which
 * etcd's WAL reader takes for a torn write and "repairs"; every other error is fatal; entries that
 * do not decode panic the apply loop. So this reader fails exactly where gogoproto's generated
 * code fails and says so with the same facts (`UnmarshalFailure`), and `unmarshalFailureText`
 * gives the very text gogoproto returns. Checked against etcd's own code by
 * test/format/proto/gogo-diff.test.ts (tools/gogo-diff).
 *
 * gogoproto's rules, as its generator writes them (github.com/gogo/protobuf v1.3.2, which every
 * etcd release uses):
 *   - a varint is read while bytes are left in the *current message*; a 10th byte with its high
 *     bit set is `integer overflow` (checked before running out of bytes); bits past 64 are dropped;
 *   - a tag's field number is `int32(tag >> 3)`: tags of 5+ bytes can come out negative, and a
 *     field number <= 0 is `illegal tag %d (wire type %d)` — where gogo prints the *whole tag*
 *     as the "wire type" (`illegal tag 0 (wire type 2)` for the byte 02); wire type 4 as a field's
 *     tag is `wiretype end group for non-group`, checked first;
 *   - a known field with another wire type is `wrong wireType = %d for field <GoName>`; repeated
 *     numeric fields also accept the packed form (wire type 2), whose elements are read bounded
 *     by the message, not by the packed length;
 *   - a length is a signed 64-bit int: negative, or overflowing when added to the position, is
 *     `negative length found during unmarshaling`; past the message's end is `unexpected EOF`;
 *   - unknown fields go through the package's `skip` function, with its own group nesting,
 *     `illegal wireType %d`, `unexpected end of group`, and lengths checked the same way.
 *
 * protobuf-go's rules (google.golang.org/protobuf v1.36.11's proto.Unmarshal, which etcd 3.7 calls
 * for every message it stores or applies; the `go*` methods below):
 *   - a varint has at most 10 bytes and its 10th byte must be 0 or 1; it is read to the end of the
 *     message (of a packed list: to the end of the list);
 *   - a tag's field number must be 1..2^29-1, and wire type 4 (end group) is never a field: etcd's
 *     messages have no group fields;
 *   - a known field with another wire type is not an error: it is skipped as an unknown field;
 *     repeated numeric fields take both forms, packed and not, whatever the .proto says;
 *   - unknown fields are skipped by protowire.ConsumeFieldValue: lengths checked against what is
 *     left, groups closed by an end-group of the *same* field number, nested at most 10000 deep;
 *   - proto3 string fields must hold valid UTF-8;
 *   - messages nest at most 10000 deep (protowire.DefaultRecursionLimit).
 * Every failure but the last two is the one error `proto: cannot parse invalid wire-format data`
 * (`invalid-wire-format`, with our own `why`); unexpected EOF does not exist there.
 *
 * The reader works on one Uint8Array with an absolute position `pos` and the end of the message
 * being read `end` (nested messages narrow it); no copies are made, `bytes()` returns views.
 * Varints come back as numbers (low 32 bits, and `hi` for the high 32); bigint only from
 * `uint64()`/`int64()`. Failures are thrown as `WireFailure` (not an Error: no stack to capture)
 * and turned into data by the public decoders built on this reader.
 */

/** Where and how gogoproto's generated Unmarshal fails. `type` is the message whose Unmarshal
 *  returned the error (the innermost one: a nested message's error is returned unchanged by its
 *  parents), as its full proto name (`raftpb.Entry`); `at` the byte offset, in the bytes given to
 *  the outermost decode, of the tag of the field being read when it failed. */
export type UnmarshalFailure =
  /** `unexpected EOF` (io.ErrUnexpectedEOF): a varint, fixed value or length runs past the end. */
  | { kind: 'unexpected-eof'; type: string; at: number; field: number }
  /** `proto: integer overflow`: a varint longer than 10 bytes. */
  | { kind: 'int-overflow'; type: string; at: number; field: number }
  /** `proto: negative length found during unmarshaling` (gogo's ErrInvalidLength). */
  | { kind: 'negative-length'; type: string; at: number; field: number }
  /** `proto: <Type>: wiretype end group for non-group`: a field tag of wire type 4. */
  | { kind: 'end-group'; type: string; at: number }
  /** `proto: <Type>: illegal tag <field> (wire type <tag>)`: field number <= 0 after int32
   *  truncation; `tag` is the whole tag varint in decimal (what gogo prints as the "wire type"). */
  | { kind: 'illegal-tag'; type: string; at: number; field: number; tag: string }
  /** `proto: wrong wireType = <n> for field <GoName>`: a known field with another wire type. */
  | { kind: 'wrong-wire-type'; type: string; at: number; field: number; fieldName: string; wireType: number }
  /** `proto: illegal wireType <n>`: an unknown field (or one inside a skipped group) of wire type 6 or 7. */
  | { kind: 'illegal-wire-type'; type: string; at: number; field: number; wireType: number }
  /** `proto: unexpected end of group`: an end-group tag in a skipped field with no group open. */
  | { kind: 'unexpected-end-group'; type: string; at: number; field: number }
  /** Nesting deeper than MAX_NESTING: our limit, not etcd's (Go would recurse on). */
  | { kind: 'too-deep'; type: string; at: number; depth: number }
  // protobuf-go (etcd 3.7+):
  /** `proto: cannot parse invalid wire-format data`: protobuf-go's one text for every malformed
   *  input; `why` is ours, to say what was wrong. */
  | { kind: 'invalid-wire-format'; type: string; at: number; field: number; why: InvalidWireFormat }
  /** `string field contains invalid UTF-8` (protobuf-go prints no `proto:` here): a proto3 string field. */
  | { kind: 'invalid-utf8'; type: string; at: number; field: number }
  /** `proto: exceeded maximum recursion depth`: a message nested GO_RECURSION_LIMIT deep. */
  | { kind: 'recursion-depth'; type: string; at: number; field: number };

/** What protobuf-go found wrong, where its error text does not say. */
export type InvalidWireFormat =
  /** a varint, fixed value, length or group runs past the end of the message */
  | 'truncated'
  /** a varint of more than 10 bytes, or whose 10th byte is more than 1 */
  | 'varint-overflow'
  /** a field number of 0 or above 2^29-1 (inside a skipped group: above 2^31-1) */
  | 'field-number'
  /** an end-group tag that closes no group (or another field's group) */
  | 'end-group'
  /** wire type 6 or 7 */
  | 'reserved-wire-type'
  /** skipped groups nested deeper than 10000 */
  | 'group-depth';

export type UnmarshalFailureKind = UnmarshalFailure['kind'];

/** The message type's Go name as gogo prints it: the last part of the proto name (`Record`, `snapshot`). */
export function goTypeName(protoName: string): string {
  return protoName.slice(protoName.lastIndexOf('.') + 1);
}

/** The exact text of the error gogoproto's generated code returns for `f`. */
export function unmarshalFailureText(f: UnmarshalFailure): string {
  switch (f.kind) {
    case 'unexpected-eof':
      return 'unexpected EOF';
    case 'int-overflow':
      return 'proto: integer overflow';
    case 'negative-length':
      return 'proto: negative length found during unmarshaling';
    case 'end-group':
      return `proto: ${goTypeName(f.type)}: wiretype end group for non-group`;
    case 'illegal-tag':
      return `proto: ${goTypeName(f.type)}: illegal tag ${f.field} (wire type ${f.tag})`;
    case 'wrong-wire-type':
      return `proto: wrong wireType = ${f.wireType} for field ${f.fieldName}`;
    case 'illegal-wire-type':
      return `proto: illegal wireType ${f.wireType}`;
    case 'unexpected-end-group':
      return 'proto: unexpected end of group';
    case 'too-deep':
      return `wal-doctor: messages nested deeper than ${f.depth} (etcd has no such limit)`;
    case 'invalid-wire-format':
      return 'proto: cannot parse invalid wire-format data';
    case 'invalid-utf8':
      return 'string field contains invalid UTF-8';
    case 'recursion-depth':
      return 'proto: exceeded maximum recursion depth';
  }
}

/** protobuf-go's texts start with `proto:` and a space or a U+00A0, a choice each binary makes on
 *  purpose (internal/detrand) so that nobody compares them: we print the plain space. */
export const PROTOBUF_GO_PREFIX = 'proto: ';

/** Carries a failure out of the reader; the decoders catch it and return the failure as data. */
export class WireFailure {
  constructor(readonly failure: UnmarshalFailure) {}
}

/** Deepest message nesting the decoders follow (TxnRequest in RequestOp in TxnRequest ...). */
export const MAX_NESTING = 1000;

/** protobuf-go's nesting limit (protowire.DefaultRecursionLimit), for messages and skipped groups alike. */
export const GO_RECURSION_LIMIT = 10000;

const MAX_INT64 = 0x7fffffffffffffffn;
const TWO_32 = 0x1_0000_0000;

const utf8 = new TextDecoder('utf-8');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class WireReader {
  buf: Uint8Array;
  /** Absolute position of the next byte to read. */
  pos: number;
  /** End of the message being read (gogo's `l`); nested messages narrow it. */
  end: number;
  /** Start of the message being read (gogo's index 0, for its signed length arithmetic). */
  base: number;
  /** High 32 bits of the last varint read (`varint()` returns the low 32). */
  hi = 0;
  /** Wire type of the last tag read. */
  wireType = 0;
  /** Set (never cleared by the reader) when a 10-byte varint whose last byte is above 1, or a tag beyond 32 bits, was read:
   *  bytes whose value gogoproto's rules and protobuf-go's may disagree on (see unmarshal.ts). */
  unusualVarint = false;
  /** Failure context: the message being read, the field and where its tag starts. */
  type: string;
  field = 0;
  fieldAt = 0;

  constructor(buf: Uint8Array, type = '', pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.base = pos;
    this.type = type;
  }

  /** Points the reader at new bytes (lets a hot decoder keep one reader instead of making one per call). */
  reset(buf: Uint8Array, type: string, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.base = start;
    this.type = type;
    this.field = 0;
    this.fieldAt = 0;
    return this;
  }

  fail(kind: 'unexpected-eof' | 'int-overflow' | 'negative-length' | 'unexpected-end-group'): WireFailure {
    return new WireFailure({ kind, type: this.type, at: this.fieldAt, field: this.field });
  }

  /** A varint, gogo's way; returns its low 32 bits (unsigned) and leaves the high 32 in `hi`. */
  varint(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        this.hi = 0;
        return b;
      }
    }
    return this.varintSlow();
  }

  private varintSlow(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    // Up to 4 bytes (values below 2^28: lengths, indexes, field tags) without the loop's checks.
    if (pos + 4 <= end) {
      const b0 = buf[pos]!;
      const b1 = buf[pos + 1]!;
      if (b1 < 0x80) {
        this.pos = pos + 2;
        this.hi = 0;
        return (b0 & 0x7f) | (b1 << 7);
      }
      const b2 = buf[pos + 2]!;
      if (b2 < 0x80) {
        this.pos = pos + 3;
        this.hi = 0;
        return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
      }
      const b3 = buf[pos + 3]!;
      if (b3 < 0x80) {
        this.pos = pos + 4;
        this.hi = 0;
        return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
      }
      const b4 = pos + 5 <= end ? buf[pos + 4]! : 0x80;
      if (b4 < 0x80) {
        // 5 bytes (a record's crc): bits 28..31 in lo, the rest of the last byte in hi
        this.pos = pos + 5;
        this.hi = b4 >>> 4;
        return ((b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | ((b3 & 0x7f) << 21) | (b4 << 28)) >>> 0;
      }
    }
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift >= 64) throw this.fail('int-overflow');
      if (pos >= end) throw this.fail('unexpected-eof');
      const b = buf[pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x7f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else {
        hi |= (b & 0x7f) << (shift - 32); // at shift 63 only the lowest bit survives, as in Go
        // protobuf-go takes a 10th byte of 0 or 1 as gogo does (the same value); above 1 it
        // refuses what gogo reads with the high bits dropped.
        if (shift === 63 && b > 1) this.unusualVarint = true;
      }
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /** Skips a varint (a value nobody needs), with the same failures as `varint()`, and flags the
   *  same 10th byte as unusual: a value gogo skips may be one protobuf-go refuses. */
  skipVarint(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    for (let shift = 0; ; shift += 7) {
      if (shift >= 64) throw this.fail('int-overflow');
      if (pos >= end) throw this.fail('unexpected-eof');
      const b = buf[pos++]!;
      if (shift === 63 && b > 1) this.unusualVarint = true;
      if (b < 0x80) break;
    }
    this.pos = pos;
  }

  /** A varint as a uint64 bigint (the one BigInt made per value). */
  uint64(): bigint {
    const lo = this.varint();
    return uint64Of(lo, this.hi);
  }

  /** A varint as an int64 bigint (two's complement of the 64 bits). */
  int64(): bigint {
    const lo = this.varint();
    return int64Of(lo, this.hi);
  }

  /**
   * Reads a field's tag as gogo's Unmarshal does and returns its field number (int32 truncation);
   * the wire type is left in `wireType`. Fails on wire type 4 and on field numbers <= 0.
   */
  tag(): number {
    const at = this.pos;
    this.fieldAt = at;
    this.field = 0;
    let lo: number;
    let hi: number;
    const b = at < this.end ? this.buf[at]! : 0x80;
    if (b < 0x80) {
      this.pos = at + 1;
      lo = b;
      hi = 0;
    } else {
      lo = this.varintSlow();
      hi = this.hi;
      if (hi !== 0) this.unusualVarint = true;
    }
    const wireType = lo & 7;
    const field = (lo >>> 3) | (hi << 29);
    if (wireType === 4) throw new WireFailure({ kind: 'end-group', type: this.type, at });
    if (field <= 0) {
      const tag = ((BigInt(hi) << 32n) | BigInt(lo)).toString();
      throw new WireFailure({ kind: 'illegal-tag', type: this.type, at, field, tag });
    }
    this.wireType = wireType;
    this.field = field;
    return field;
  }

  /** The failure for a known field whose tag has the wrong wire type. */
  wrongWireType(fieldName: string): WireFailure {
    return new WireFailure({ kind: 'wrong-wire-type', type: this.type, at: this.fieldAt, field: this.field, fieldName, wireType: this.wireType });
  }

  /**
   * Reads a length prefix and returns the absolute end of the bytes it announces, checked as gogo
   * does before anything is sliced: negative or overflowing → negative length; past the end of the
   * message → unexpected EOF.
   */
  lengthEnd(): number {
    const lo = this.varint();
    const hi = this.hi;
    if (hi === 0) {
      const e = this.pos + lo;
      if (e > this.end) throw this.fail('unexpected-eof');
      return e;
    }
    throw this.hugeLength(lo, hi, this.pos - this.base);
  }

  /** A length of 2^32 or more never fits: negative (bit 63, or index + length overflowing int64) or EOF. */
  private hugeLength(lo: number, hi: number, index: number): WireFailure {
    if (hi >= 0x80000000) return this.fail('negative-length');
    const length = (BigInt(hi) << 32n) | BigInt(lo);
    return this.fail(BigInt(index) + length > MAX_INT64 ? 'negative-length' : 'unexpected-eof');
  }

  /** A length-delimited value's bytes, as a view (no copy). */
  bytes(): Uint8Array {
    const e = this.lengthEnd();
    const b = this.buf;
    // The constructor, not subarray(): several times cheaper (no species lookup), and a plain
    // Uint8Array even when the input is a Buffer.
    const v = new Uint8Array(b.buffer, b.byteOffset + this.pos, e - this.pos);
    this.pos = e;
    return v;
  }

  /** A length-delimited value as text (invalid UTF-8 becomes U+FFFD, as Go's string() keeps bytes). */
  string(): string {
    const e = this.lengthEnd();
    const s = decodeText(this.buf, this.pos, e);
    this.pos = e;
    return s;
  }

  /**
   * Skips the field whose tag starts at `fieldAt`, the way gogo's generated `skip<Pkg>` function
   * does (it is handed the bytes from the tag on): groups nest by a counter, whatever their field
   * numbers; wire types 6 and 7 fail; a length is checked for sign and int64 overflow, and where
   * the field ends is only compared with the end of the message afterwards.
   */
  skipField(): void {
    const end = this.end;
    const start = this.fieldAt;
    let i = start;
    let depth = 0;
    for (;;) {
      if (i >= end) throw this.fail('unexpected-eof');
      this.pos = i;
      const lo = this.varint();
      i = this.pos;
      const wt = lo & 7;
      switch (wt) {
        case 0:
          this.skipVarint();
          i = this.pos;
          break;
        case 1:
          i += 8;
          break;
        case 2: {
          const len = this.varint();
          const hi = this.hi;
          i = this.pos;
          if (hi !== 0) {
            // skip's own check: index (from the tag) + length must not overflow; then the caller's.
            if (hi >= 0x80000000) throw this.fail('negative-length');
            const length = (BigInt(hi) << 32n) | BigInt(len);
            if (BigInt(i - start) + length > MAX_INT64) throw this.fail('negative-length');
            if (depth === 0 && BigInt(i - this.base) + length > MAX_INT64) throw this.fail('negative-length');
            throw this.fail('unexpected-eof');
          }
          i += len;
          break;
        }
        case 3:
          depth++;
          break;
        case 4:
          if (depth === 0) throw this.fail('unexpected-end-group');
          depth--;
          break;
        case 5:
          i += 4;
          break;
        default:
          throw new WireFailure({ kind: 'illegal-wire-type', type: this.type, at: start, field: this.field, wireType: wt });
      }
      if (depth === 0) break;
    }
    if (i > end) throw this.fail('unexpected-eof');
    this.pos = i;
  }

  // ---- protobuf-go's reading (etcd 3.7+): see the header ----

  /** protobuf-go's failure at the field being read. */
  goFail(why: InvalidWireFormat): WireFailure {
    return new WireFailure({ kind: 'invalid-wire-format', type: this.type, at: this.fieldAt, field: this.field, why });
  }

  /** A varint, protobuf-go's way (protowire.ConsumeVarint); returns its low 32 bits, the high 32 in `hi`. */
  goVarint(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        this.hi = 0;
        return b;
      }
    }
    return this.goVarintSlow();
  }

  private goVarintSlow(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) throw this.goFail('truncated');
      const b = buf[pos++]!;
      if (shift === 63) {
        // the 10th byte carries bit 63 only, and ends the varint whatever its high bit says
        if (b > 1) throw this.goFail('varint-overflow');
        hi |= b << 31;
        break;
      }
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x7f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /**
   * Reads a field's tag as protobuf-go's unmarshalPointer does and returns its field number
   * (1..2^29-1, else a failure); the wire type is left in `wireType`. Wire type 4 fails too:
   * with no group fields in etcd's messages, an end-group tag never closes anything.
   */
  goTag(): number {
    const at = this.pos;
    this.fieldAt = at;
    this.field = 0;
    const lo = this.goVarint();
    if (this.hi !== 0 || lo < 8) throw this.goFail('field-number');
    const field = lo >>> 3;
    this.field = field;
    const wireType = lo & 7;
    if (wireType === 4) throw this.goFail('end-group');
    this.wireType = wireType;
    return field;
  }

  /** A length prefix (protowire.ConsumeBytes): the absolute end of the bytes it announces. */
  goLengthEnd(): number {
    const lo = this.goVarint();
    if (this.hi !== 0 || lo > this.end - this.pos) throw this.goFail('truncated');
    return this.pos + lo;
  }

  /**
   * Skips the value of the field whose tag was just read (its number in `field`, wire type in
   * `wireType`) as protowire.ConsumeFieldValue does: a group runs to the end-group tag of the
   * same number, whatever it holds, with groups nested at most GO_RECURSION_LIMIT deep.
   */
  goSkipField(): void {
    if (this.wireType !== 3) {
      this.goSkipValue(this.wireType);
      return;
    }
    const open: number[] = [this.field]; // groups open, by field number
    for (;;) {
      // the next tag in the innermost group (protowire.ConsumeTag: field numbers 1..2^31-1)
      const lo = this.goVarint();
      const hi = this.hi;
      if (hi >= 4 || (hi === 0 && lo < 8)) throw this.goFail('field-number');
      const no = hi * 0x20000000 + (lo >>> 3);
      const wt = lo & 7;
      if (wt === 4) {
        if (open.pop() !== no) throw this.goFail('end-group');
        if (open.length === 0) return;
      } else if (wt === 3) {
        // the k-th nested group is read with depth LIMIT - k, and fails below 0
        if (open.length > GO_RECURSION_LIMIT) throw this.goFail('group-depth');
        open.push(no);
      } else this.goSkipValue(wt);
    }
  }

  /** Skips a value of wire type 0, 1, 2 or 5; 6 and 7 are reserved. */
  private goSkipValue(wt: number): void {
    switch (wt) {
      case 0:
        this.goVarint();
        return;
      case 1:
        if (this.end - this.pos < 8) throw this.goFail('truncated');
        this.pos += 8;
        return;
      case 5:
        if (this.end - this.pos < 4) throw this.goFail('truncated');
        this.pos += 4;
        return;
      case 2:
        this.pos = this.goLengthEnd();
        return;
      default:
        throw this.goFail('reserved-wire-type');
    }
  }
}

/**
 * Whether buf[start, end) is valid UTF-8 as Go's utf8.Valid says (no overlong forms, surrogates or
 * code points past U+10FFFF: the same bytes the WHATWG decoder refuses in fatal mode).
 */
export function isValidUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && buf[i]! < 0x80) i++;
  if (i === end) return true;
  try {
    strictUtf8.decode(buf.subarray(i, end));
    return true;
  } catch {
    return false;
  }
}

/** The int64 (two's complement) whose low and high 32 bits are `lo` and `hi`. */
export function int64Of(lo: number, hi: number): bigint {
  if (hi < 0x200000) return BigInt(hi * TWO_32 + lo);
  if (hi >= 0xffe00000) return BigInt((hi - TWO_32) * TWO_32 + lo); // -2^53 .. -1: exact as a number
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

/** Appends the varint of `v` (a safe integer or a bigint; negatives as their 64-bit two's complement). */
export function pushVarint(out: number[], v: number | bigint): void {
  if (typeof v === 'number' && v >= 0) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return;
  }
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** The uint64 whose low and high 32 bits are `lo` and `hi` (unsigned numbers). */
export function uint64Of(lo: number, hi: number): bigint {
  return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * One remembered uint64: a decoder reading the same value record after record (an entry's term,
 * a hard state's vote) gets the bigint it already made instead of a new one.
 */
export class Uint64Memo {
  private lo = -1;
  private hi = -1;
  private value = 0n;

  /** Reads a varint from `r` as a uint64. */
  read(r: WireReader): bigint {
    const lo = r.varint();
    const hi = r.hi;
    if (lo !== this.lo || hi !== this.hi) {
      this.lo = lo;
      this.hi = hi;
      this.value = uint64Of(lo, hi);
    }
    return this.value;
  }
}

/** UTF-8 text of buf[start, end) (invalid bytes as U+FFFD); short ASCII strings without TextDecoder. */
export function decodeText(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(start, end));
}
