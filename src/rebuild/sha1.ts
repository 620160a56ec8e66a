/** SHA-1 with node:crypto, for ids.ts (which takes the hash as a parameter to stay pure). */
import { createHash } from 'node:crypto';
import type { Sha1 } from './ids.js';

export const sha1: Sha1 = (data) => new Uint8Array(createHash('sha1').update(data).digest());
