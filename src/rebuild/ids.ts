/**
 * Member and cluster IDs as etcd computes them at bootstrap and restore, and the validation etcd
 * runs on `--name`, `--initial-cluster` and `--initial-advertise-peer-urls` before it (spec
 * etcd-restore.md §7.2, §7.3 step 1). Pure: the SHA-1 is passed in (see sha1.ts), so this module
 * needs neither node:crypto nor the file system.
 *
 *   memberID  = BE_uint64(SHA1(concat(sorted peer URL strings) || token)[0:8])
 *   clusterID = BE_uint64(SHA1(concat over ascending IDs of BE_uint64(id))[0:8])
 *
 * Error texts are etcd's own (checked against etcdutl 3.5.30 and etcdctl 3.4.23), in the order
 * etcd's restore reports them: the advertise URLs are parsed first, then --initial-cluster, then
 * ServerConfig.VerifyBootstrap (local name, advertise vs cluster, duplicate URL), then
 * NewClusterFromURLsMap (ID 0, identical IDs).
 *
 * One difference: etcd resolves host names (DNS) when the advertise URLs and the local member's
 * --initial-cluster URLs differ as strings; we compare strings only, so `localhost` vs `127.0.0.1`
 * is refused here where etcd might accept it. Equal strings are accepted by both.
 */
import { UsageError } from '../errors.js';

/** SHA-1 of `data` (20 bytes). */
export type Sha1 = (data: Uint8Array) => Uint8Array;

const utf8 = new TextEncoder();

/** Go's sort.Strings order: byte-wise on the UTF-8 encoding. */
export function compareGoStrings(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

const sortGo = (xs: readonly string[]): string[] => [...xs].sort(compareGoStrings);

/** Go's %q for a string (ASCII URLs: a JSON-style quoted string). */
function q(s: string): string {
  return JSON.stringify(s);
}

/** Go's %q for a []string: `["a" "b"]`. */
function qs(xs: readonly string[]): string {
  return `[${xs.map(q).join(' ')}]`;
}

/**
 * etcd's types.NewURLs for one URL: trim, parse, check the scheme (http, https, unix, unixs), that
 * http(s) URLs have host:port and no path. Returns url.URL.String(), which for the accepted forms
 * is the trimmed input with the scheme lower-cased. Forms whose Go string we do not reproduce
 * (user info, query, fragment) are refused with our own message.
 */
export function parsePeerUrl(input: string): string {
  const inp = input.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s.exec(inp);
  const scheme = m?.[1]?.toLowerCase() ?? (/^([A-Za-z][A-Za-z0-9+.-]*):/.exec(inp)?.[1]?.toLowerCase() ?? '');
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'unix' && scheme !== 'unixs') {
    throw new UsageError(`URL scheme must be http, https, unix, or unixs: ${inp}`);
  }
  if (!m) throw new UsageError(`URL address does not have the form "host:port": ${inp}`);
  const host = m[2] as string;
  const rest = m[3] as string;
  if (scheme === 'http' || scheme === 'https') {
    if (!splitHostPortOk(host)) throw new UsageError(`URL address does not have the form "host:port": ${inp}`);
    if (rest.startsWith('/')) throw new UsageError(`URL must not contain a path: ${inp}`);
  }
  if (rest !== '' || host.includes('@')) {
    throw new UsageError(`peer URL ${inp}: only scheme://host:port is supported here (etcd would accept it, but its ID depends on Go's URL normalisation)`);
  }
  return `${scheme}://${host}`;
}

/** Go's net.SplitHostPort succeeds: `host:port` with one colon, or `[v6]:port`. */
function splitHostPortOk(hp: string): boolean {
  if (hp.startsWith('[')) return /^\[[^[\]]*\]:[^:[\]]*$/.test(hp);
  return /^[^:[\]]*:[^:[\]]*$/.test(hp);
}

/** etcd's types.NewURLs: every URL checked, the result sorted by string. */
export function parsePeerUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw new UsageError('no valid URLs given');
  return sortGo(urls.map(parsePeerUrl));
}

/** A comma-separated URL flag (`--initial-advertise-peer-urls`), split as etcd splits it. */
export function parseUrlList(flag: string): string[] {
  return parsePeerUrls(flag.split(','));
}

/** name → sorted peer URLs, in first-appearance order of the names. */
export type InitialCluster = Map<string, string[]>;

/**
 * etcd's types.NewURLsMap: `name=url,name=url,...`; a name may repeat to give several URLs; an
 * item without `=` is a name with an empty URL (refused by the URL check); empty items are skipped.
 */
export function parseInitialCluster(flag: string): InitialCluster {
  const raw = new Map<string, string[]>();
  for (const item of flag.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq) : item;
    const url = eq >= 0 ? item.slice(eq + 1) : '';
    const list = raw.get(name) ?? [];
    list.push(url);
    raw.set(name, list);
  }
  const out: InitialCluster = new Map();
  for (const [name, urls] of raw) out.set(name, parsePeerUrls(urls));
  return out;
}

/** types.URLsMap.String(): every `name=url` pair, sorted, joined with commas. */
export function initialClusterString(ic: InitialCluster): string {
  const pairs: string[] = [];
  for (const [name, urls] of ic) for (const u of urls) pairs.push(`${name}=${u}`);
  return sortGo(pairs).join(',');
}

/**
 * ServerConfig.VerifyBootstrap as restore runs it: the local name must be in the cluster, its
 * advertise URLs must equal its --initial-cluster URLs, and no URL may appear twice.
 */
export function verifyBootstrap(name: string, advertise: readonly string[], ic: InitialCluster): void {
  const local = ic.get(name);
  if (!local) throw new UsageError(`couldn't find local name ${q(name)} in the initial cluster configuration`);
  const ap = sortGo(advertise);
  const cl = sortGo(local);
  let why: string | undefined;
  if (ap.length !== cl.length) why = `len(${qs(ap)}) != len(${qs(cl)})`;
  else {
    const i = ap.findIndex((u, k) => u !== cl[k]);
    if (i >= 0) why = `resolved urls: ${q(ap[i] as string)} != ${q(cl[i] as string)}`;
  }
  if (why !== undefined) {
    const apSet = new Set(ap);
    const clSet = new Set(cl);
    const inClusterOnly = cl.filter((u) => !apSet.has(u));
    if (inClusterOnly.length > 0) {
      throw new UsageError(`--initial-cluster has ${inClusterOnly.map((u) => `${name}=${u}`).join(',')} but missing from --initial-advertise-peer-urls=${ap.join(',')} (${why})`);
    }
    const inAdvertiseOnly = ap.filter((u) => !clSet.has(u));
    if (inAdvertiseOnly.length > 0) {
      throw new UsageError(`--initial-advertise-peer-urls has ${inAdvertiseOnly.join(',')} but missing from --initial-cluster=${initialClusterString(new Map([[name, ap]]))}`);
    }
    // Same sets, different lengths: a URL given twice on one side.
    throw new UsageError(`failed to resolve ${ap.join(',')} to match --initial-cluster=${initialClusterString(new Map([[name, cl]]))} (${why})`);
  }
  const seen = new Set<string>();
  for (const urls of ic.values()) {
    for (const u of urls) {
      if (seen.has(u)) throw new UsageError(`initial cluster ${initialClusterString(ic)} has duplicate url`);
      seen.add(u);
    }
  }
}

function be64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
}

/** A member's ID: SHA-1 of its sorted peer URLs concatenated without separator, then the token. */
export function memberId(peerUrls: readonly string[], token: string, sha1: Sha1): bigint {
  return be64(sha1(utf8.encode(sortGo(peerUrls).join('') + token)));
}

/** The cluster ID: SHA-1 of the members' IDs, ascending, as 8-byte big-endian each. */
export function clusterId(memberIds: readonly bigint[], sha1: Sha1): bigint {
  const ids = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = new Uint8Array(8 * ids.length);
  const dv = new DataView(buf.buffer);
  ids.forEach((id, i) => dv.setBigUint64(8 * i, id, false));
  return be64(sha1(buf));
}

export interface BootstrapMember {
  id: bigint;
  name: string;
  /** Sorted as etcd sorts them. */
  peerUrls: string[];
}

export interface Bootstrap {
  /** Ascending ID order (etcd's cluster.Members()). */
  members: BootstrapMember[];
  local: BootstrapMember;
  clusterId: bigint;
}

export interface BootstrapFlags {
  name: string;
  /** `--initial-cluster` as given. */
  initialCluster: string;
  /** `--initial-cluster-token`. */
  initialClusterToken: string;
  /** `--initial-advertise-peer-urls` as given (comma-separated). */
  initialAdvertisePeerUrls: string;
}

/** etcd's defaults for the restore flags (same in 3.4's etcdctl and 3.5's etcdutl). */
export const RESTORE_DEFAULTS: BootstrapFlags = {
  name: 'default',
  initialCluster: 'default=http://localhost:2380',
  initialClusterToken: 'etcd-cluster',
  initialAdvertisePeerUrls: 'http://localhost:2380',
};

/**
 * Validate the flags as etcd's restore does and compute every member's ID and the cluster ID.
 * Throws UsageError with etcd's text.
 */
export function bootstrapMembers(flags: BootstrapFlags, sha1: Sha1): Bootstrap {
  const advertise = parseUrlList(flags.initialAdvertisePeerUrls);
  const ic = parseInitialCluster(flags.initialCluster);
  verifyBootstrap(flags.name, advertise, ic);
  const members: BootstrapMember[] = [];
  const byId = new Map<bigint, BootstrapMember>();
  for (const [name, urls] of ic) {
    const m = { id: memberId(urls, flags.initialClusterToken, sha1), name, peerUrls: urls };
    if (m.id === 0n) throw new UsageError('cannot use 0 as member id');
    if (byId.has(m.id)) throw new UsageError(`member exists with identical ID ${memberString(m)}`);
    byId.set(m.id, m);
    members.push(m);
  }
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const local = members.find((m) => m.name === flags.name) as BootstrapMember;
  return { members, local, clusterId: clusterId(members.map((m) => m.id), sha1) };
}

/** Go's %v of a *Member, close enough to identify it in the error. */
function memberString(m: BootstrapMember): string {
  return `&{ID:${m.id.toString(16)} RaftAttributes:{PeerURLs:[${m.peerUrls.join(' ')}] IsLearner:false} Attributes:{Name:${m.name} ClientURLs:[]}}`;
}
