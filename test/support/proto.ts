// Decoding for tests that expect the bytes to be good: the message, or an exception with etcd's text.
import { type ProtoObject, decodeEtcdMessage, unmarshalFailureText } from '../../src/format/proto/unmarshal.js';

export function decodeOk(typeName: string, bytes: Uint8Array): ProtoObject {
  const r = decodeEtcdMessage(typeName, bytes);
  if (!r.ok) throw new Error(`${r.failure.type}: ${unmarshalFailureText(r.failure)} at byte ${r.failure.at}`);
  return r.message;
}
