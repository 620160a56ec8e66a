// Test-only surgery on a real bbolt file: add a key to a small inline bucket by rewriting the root
// leaf page in place (bbolt pages carry no checksum; only the metas do, and they are untouched).
// Used to turn a real etcd 3.5 db into what 3.6 writes (meta/storageVersion), per the spec,
// since no 3.6 binary is available here.
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeMeta } from '../../src/format/bbolt/page.js';

interface Item {
  flags: number;
  key: Buffer;
  value: Buffer;
}

function readLeaf(page: Buffer): Item[] {
  const count = page.readUInt16LE(10);
  const items: Item[] = [];
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 16;
    const flags = page.readUInt32LE(e);
    const pos = page.readUInt32LE(e + 4);
    const ksize = page.readUInt32LE(e + 8);
    const vsize = page.readUInt32LE(e + 12);
    items.push({ flags, key: page.subarray(e + pos, e + pos + ksize), value: page.subarray(e + pos + ksize, e + pos + ksize + vsize) });
  }
  return items;
}

function writeLeaf(id: bigint, items: Item[], size: number): Buffer {
  const page = Buffer.alloc(size);
  page.writeBigUInt64LE(id, 0);
  page.writeUInt16LE(0x02, 8);
  page.writeUInt16LE(items.length, 10);
  let data = 16 + items.length * 16;
  items.forEach((it, i) => {
    const e = 16 + i * 16;
    page.writeUInt32LE(it.flags, e);
    page.writeUInt32LE(data - e, e + 4);
    page.writeUInt32LE(it.key.length, e + 8);
    page.writeUInt32LE(it.value.length, e + 12);
    it.key.copy(page, data);
    it.value.copy(page, data + it.key.length);
    data += it.key.length + it.value.length;
  });
  if (data > size) throw new Error(`leaf does not fit: ${data} > ${size}`);
  return page.subarray(0, Math.max(data, 16));
}

/** Add (or replace) key=value in the inline top-level bucket `bucket` of the db file at `path`. */
export function putInlineBucketKey(path: string, bucket: string, key: string, value: string): void {
  const file = readFileSync(path);
  const pageSize = file.readUInt32LE(24);
  const metas = [decodeMeta(file.subarray(0, pageSize), 0), decodeMeta(file.subarray(pageSize, 2 * pageSize), 1)];
  const meta = metas.filter((m) => m.checksum === m.computedChecksum).sort((a, b) => (a.txid > b.txid ? -1 : 1))[0];
  if (!meta) throw new Error('no valid meta');
  const rootOff = Number(meta.root) * pageSize;
  const root = file.subarray(rootOff, rootOff + pageSize);
  if (root.readUInt16LE(8) !== 0x02 || root.readUInt32LE(12) !== 0) throw new Error('root bucket page is not a single leaf');
  const buckets = readLeaf(root);
  const b = buckets.find((x) => x.key.toString() === bucket);
  if (!b || b.value.readBigUInt64LE(0) !== 0n) throw new Error(`bucket ${bucket} is not inline`);
  const inline = b.value.subarray(16);
  const items = readLeaf(Buffer.from(inline)).filter((x) => x.key.toString() !== key);
  items.push({ flags: 0, key: Buffer.from(key), value: Buffer.from(value) });
  items.sort((x, y) => Buffer.compare(x.key, y.key));
  b.value = Buffer.concat([b.value.subarray(0, 16), writeLeaf(0n, items, pageSize)]);
  const newRoot = writeLeaf(meta.root, buckets.map((x) => ({ ...x, key: Buffer.from(x.key), value: Buffer.from(x.value) })), pageSize);
  file.fill(0, rootOff, rootOff + pageSize);
  newRoot.copy(file, rootOff);
  writeFileSync(path, file);
}
