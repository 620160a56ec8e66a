/**
 * A small JSON parser that keeps integers exact: etcd writes member and raft ids (uint64) as bare
 * JSON numbers, and JSON.parse rounds anything above 2^53. Integer literals become `bigint`, other
 * numbers `number`. Bad input is returned as an error value with its offset, never thrown.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

export type JsonResult = { ok: true; value: JsonValue } | { ok: false; offset: number; reason: string };

/** Nesting deeper than this is refused (the inputs are tiny objects). */
const MAX_DEPTH = 64;

class JsonError {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

export function parseJsonBigInt(text: string): JsonResult {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (reason: string): never => {
    throw new JsonError(i, reason);
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[k] = value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return m[2] === undefined && m[3] === undefined ? BigInt(m[0]) : Number(m[0]);
  };
  const str = (): string => {
    // Find the closing quote, then let JSON.parse handle the escapes of this one string.
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('bad string');
    }
  };
  try {
    const v = value(0);
    ws();
    if (i !== text.length) fail('trailing characters');
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof JsonError) return { ok: false, offset: e.offset, reason: e.reason };
    throw e;
  }
}

/** A field as a bigint (ids), if it is an integer. */
export function jsonBigInt(v: JsonValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

export function jsonBigIntArray(v: JsonValue | undefined): bigint[] {
  if (!Array.isArray(v)) return [];
  return v.map(jsonBigInt).filter((x): x is bigint => x !== undefined);
}

export function jsonStringArray(v: JsonValue | undefined): string[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === 'string');
}

export function isJsonObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
