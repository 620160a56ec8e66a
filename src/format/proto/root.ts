/**
 * Our schema as a protobufjs Root (from descriptor.generated.ts): for the encoders (encode.ts),
 * the generator of the decoding tables (spec-derive.ts, through scripts/gen-proto.mjs) and the
 * tests. The decoders never load it.
 */
import protobuf from 'protobufjs';
import { descriptor } from './descriptor.generated.js';

export const root = protobuf.Root.fromJSON(descriptor);
root.resolveAll();

const types = new Map<string, protobuf.Type>();
/** A message type by full proto name (`raftpb.Entry`); throws on a name not in our schema (a bug). */
export function lookupType(name: string): protobuf.Type {
  let t = types.get(name);
  if (!t) {
    t = root.lookupType(name);
    types.set(name, t);
  }
  return t;
}
