/**
 * The v2 store JSON a restore puts in its `.snap` file (spec etcd-snap.md §5.6, etcd-restore.md
 * §7.5), and the member JSON etcd writes into the ConfChange contexts and the `members` bucket.
 *
 * A restore's v2 store holds only the membership: `/0/members/<hex id>/raftAttributes` for each
 * member, created in ascending ID order, member i (1-based) at store index i. The text is Go's
 * encoding/json output: compact, struct fields in declaration order, map keys sorted as strings
 * (so unpadded hex IDs sort lexicographically), `<`, `>`, `&`, U+2028 and U+2029 escaped, and the
 * watcher hub's event ring always 1000 slots long, unused slots `null`.
 */

/** Go encoding/json's string encoding (HTML-safe, as json.Marshal does). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

const strArray = (xs: readonly string[]): string => `[${xs.map(goJsonString).join(',')}]`;

export interface StoreMember {
  id: bigint;
  name: string;
  /** Sorted as etcd sorts them. */
  peerUrls: readonly string[];
}

/**
 * membership.Member as JSON: `{"id":<decimal>,"peerURLs":[...],"name":"..."}` (isLearner and
 * clientURLs omitted when false/empty, name when empty). The ConfChange context and the value in
 * the `members` bucket.
 */
export function memberJson(m: StoreMember): string {
  const name = m.name === '' ? '' : `,"name":${goJsonString(m.name)}`;
  return `{"id":${m.id.toString(10)},"peerURLs":${strArray(m.peerUrls)}${name}}`;
}

/** RaftAttributes as JSON: the value of `/0/members/<id>/raftAttributes`. */
export function raftAttributesJson(m: StoreMember): string {
  return `{"peerURLs":${strArray(m.peerUrls)}}`;
}

const PERMANENT = '"ExpireTime":"0001-01-01T00:00:00Z"';
const EVENT_SLOTS = 1000;

function node(path: string, index: number, value: string, children: string | null): string {
  return `{"Path":${goJsonString(path)},"CreatedIndex":${index},"ModifiedIndex":${index},${PERMANENT},"Value":${goJsonString(value)},"Children":${children ?? 'null'}}`;
}

/** A Go map[string]*node as JSON: keys sorted as strings. */
function children(entries: [string, string][]): string {
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{${sorted.map(([k, v]) => `${goJsonString(k)}:${v}`).join(',')}}`;
}

/**
 * The v2 store JSON of a restored cluster with `members` (any order; they are created in
 * ascending ID order). Byte-identical to etcd 3.4.23's and 3.5.30's restore output; 3.6.16's and
 * 3.7.3's count one failed get (`getsFail`).
 */
export function restoreV2StoreJson(members: readonly StoreMember[], opts: { getsFail?: number } = {}): string {
  const ms = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = ms.length;
  if (n === 0 || n >= EVENT_SLOTS) throw new RangeError(`a restore has 1..${EVENT_SLOTS - 1} members, not ${n}`);
  const memberNodes: [string, string][] = [];
  const events: string[] = [];
  ms.forEach((m, i) => {
    const idx = i + 1;
    const hex = m.id.toString(16);
    const dir = `/0/members/${hex}`;
    const key = `${dir}/raftAttributes`;
    const value = raftAttributesJson(m);
    memberNodes.push([hex, node(dir, idx, '', children([['raftAttributes', node(key, idx, value, null)]]))]);
    events.push(`{"action":"create","node":{"key":${goJsonString(key)},"value":${goJsonString(value)},"modifiedIndex":${idx},"createdIndex":${idx}}}`);
  });
  for (let i = n; i < EVENT_SLOTS; i++) events.push('null');
  const membersDir = node('/0/members', 1, '', children(memberNodes));
  const root = node(
    '/',
    0,
    '',
    children([
      ['0', node('/0', 0, '', children([['members', membersDir]]))],
      ['1', node('/1', 0, '', '{}')],
    ]),
  );
  const stats =
    `{"getsSuccess":0,"getsFail":${opts.getsFail ?? 0},"setsSuccess":0,` +
    '"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,' +
    `"createSuccess":${n},"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}`;
  return (
    `{"Root":${root},"WatcherHub":{"EventHistory":{"Queue":{"Events":[${events.join(',')}],"Size":${n},"Front":0,"Back":${n},"Capacity":${EVENT_SLOTS}},` +
    `"StartIndex":1,"LastIndex":${n}}},"CurrentIndex":${n},"Stats":${stats},"CurrentVersion":2}`
  );
}
