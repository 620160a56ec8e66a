import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { type ByteClass, type HexLine, type SegmentRows, frameLayout, hexLines, recordJson } from './segment-rows.js';
import { recordRowText } from './RecordList.js';
import { toneProps, useTheme } from './theme.js';
import { useListCursor } from './use-list-cursor.js';
import { useScreenKeys } from './use-screen-keys.js';

export interface RecordDetailProps {
  rows: SegmentRows;
  row: number;
  height: number;
  depth: number;
}

/** Hex lines shown of a large frame: its head (where the length word, type and crc are) and tail. */
const HEAD_LINES = 48;
const TAIL_LINES = 4;

type DetailLine = { kind: 'text'; text: string; tone?: 'error' | 'head' | 'dim' } | { kind: 'hex'; line: HexLine };

/**
 * Screen 4: one record: where it is and what it is (with the Kubernetes objects it writes), a hex view of its frame (length word, record
 * fields, padding; the damaged bytes highlighted), then the decoded record as JSON.
 */
export function RecordDetail({ rows, row, height, depth }: RecordDetailProps) {
  const lines = useMemo<DetailLine[]>(() => {
    const v = rows.view(row);
    const bytes = rows.frameBytes(row);
    const layout = frameLayout(bytes, v.kind === 'damaged' ? rows.end : undefined);
    const out: DetailLine[] = [];
    out.push({ kind: 'text', text: recordRowText(v).trim(), tone: 'head' });
    out.push({
      kind: 'text',
      text:
        v.kind === 'damaged'
          ? `! good data ends here (${rows.end.kind}): etcd's reader stops at byte ${v.offset.toLocaleString('en-US')}`
          : v.kind === 'salvaged'
            ? '+ found past the damage by scanning: etcd never reads it'
            : `record ${v.recordNo} of the segment, part of the good log`,
      ...(v.kind === 'good' ? {} : { tone: 'error' as const }),
    });
    if (v.k8s) {
      out.push({ kind: 'text', text: 'Kubernetes', tone: 'head' });
      for (const o of v.k8s) {
        const ob = o.object;
        const where = o.namespace !== undefined ? `${o.namespace}/${o.name ?? ''}` : (o.name ?? '');
        out.push({ kind: 'text', text: `  ${o.op === 'put' ? 'put' : 'delete'} ${ob?.kind ?? o.resource} ${where}${o.range ? ' (range)' : ''}${o.txnBranch ? ` (txn ${o.txnBranch})` : ''}` });
        if (ob) {
          const f = [
            ob.apiVersion !== undefined ? `apiVersion ${ob.apiVersion}` : '',
            `encoding ${ob.encoding}`,
            ob.uid !== undefined ? `uid ${ob.uid}` : '',
            ob.creationTimestamp !== undefined ? `created ${ob.creationTimestamp}` : '',
            ob.encryption ? `encrypted: ${ob.encryption.provider} key ${ob.encryption.keyName}` : '',
            ob.error !== undefined ? `error: ${ob.error}` : '',
          ].filter(Boolean);
          out.push({ kind: 'text', text: `    ${f.join(', ')}`, ...(ob.error !== undefined ? { tone: 'error' as const } : {}) });
        }
      }
    }
    out.push({ kind: 'text', text: `Frame at byte ${v.offset.toLocaleString('en-US')}, ${bytes.length.toLocaleString('en-US')} bytes`, tone: 'head' });
    for (const l of layout.legend) out.push({ kind: 'text', text: `  ${l}`, ...(l.startsWith('damaged') ? { tone: 'error' as const } : {}) });
    const all = Math.ceil(bytes.length / 16);
    // Under a line with damaged bytes, carets point at them: the highlight survives NO_COLOR and copy-paste.
    const hex = (h: HexLine) => {
      out.push({ kind: 'hex', line: h });
      if (h.bytes.some((b) => b.cls === 'bad')) out.push({ kind: 'text', text: `${' '.repeat(8)}${h.bytes.map((b) => (b.cls === 'bad' ? ' ^^' : '   ')).join('').trimEnd()}`, tone: 'error' });
    };
    if (all <= HEAD_LINES + TAIL_LINES + 1) for (const h of hexLines(bytes, layout.classes, v.offset, all)) hex(h);
    else {
      for (const h of hexLines(bytes, layout.classes, v.offset, HEAD_LINES)) hex(h);
      out.push({ kind: 'text', text: `  … ${((all - HEAD_LINES - TAIL_LINES) * 16).toLocaleString('en-US')} bytes not shown …`, tone: 'dim' });
      const from = (all - TAIL_LINES) * 16;
      for (const h of hexLines(bytes.subarray(from), layout.classes.slice(from), v.offset + from, TAIL_LINES)) hex(h);
    }
    out.push({ kind: 'text', text: 'Decoded', tone: 'head' });
    for (const t of recordJson(v)) out.push({ kind: 'text', text: t });
    return out;
  }, [rows, row]);
  const scroll = useListCursor(Math.max(1, lines.length - height + 1), 1, 0, Math.max(1, height - 1));
  useScreenKeys(depth, (input, key) => scroll.handleKey(input, key));
  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(scroll.cursor, scroll.cursor + height).map((l, i) => (l.kind === 'hex' ? <Hex key={i} line={l.line} /> : <Plain key={i} text={l.text} tone={l.tone} />))}
    </Box>
  );
}

function Plain({ text, tone }: { text: string; tone: 'error' | 'head' | 'dim' | undefined }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end" {...toneProps(theme, tone)}>
      {text === '' ? ' ' : text}
    </Text>
  );
}

const CLASS_COLOR: Record<ByteClass, string | undefined> = { length: 'cyan', type: 'magenta', crc: 'green', data: undefined, pad: 'gray', bad: undefined };

/** `00005150  08 02 10 fb … |....|`; damaged bytes inverse (and red), fields coloured when allowed. */
function Hex({ line }: { line: HexLine }) {
  const theme = useTheme();
  const runs: { text: string; cls: ByteClass }[] = [];
  for (const b of line.bytes) {
    const last = runs[runs.length - 1];
    if (last && last.cls === b.cls) last.text += ` ${b.hex}`;
    else runs.push({ text: ` ${b.hex}`, cls: b.cls });
  }
  const pad = '   '.repeat(16 - line.bytes.length);
  return (
    <Text wrap="truncate-end">
      {line.offset.toString(16).padStart(8, '0')} 
      {runs.map((r, i) =>
        r.cls === 'bad' ? (
          <Text key={i} inverse {...(theme.color ? { color: 'red' } : {})}>
            {r.text}
          </Text>
        ) : (
          <Text key={i} {...(theme.color && CLASS_COLOR[r.cls] ? { color: CLASS_COLOR[r.cls]! } : {})}>
            {r.text}
          </Text>
        ),
      )}
      {`${pad}  |${line.ascii}|`}
    </Text>
  );
}
