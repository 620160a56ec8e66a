// Native addons inside the single-file executable. A SEA's require() loads only Node's built-in
// modules, so the two prebuilt addons (fs-native-extensions for OFD locks, @node-rs/crc32 for
// CRC-32C) travel as SEA assets; the first use writes one to a private temp dir (0700, named by its
// SHA-256, so a changed binary never loads an old copy) and loads it with process.dlopen.
// Anything that fails here is reported as the module's load error: the callers fall back (flock(1)
// for locks, the JS crc-32 for CRCs) exactly as they do when npm could not install the addon.
'use strict';
const { createHash } = require('node:crypto');
const { mkdirSync, writeFileSync, existsSync, renameSync, statSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const cache = new Map();

exports.loadAddon = function loadAddon(asset) {
  if (cache.has(asset)) return cache.get(asset);
  const sea = require('node:sea');
  if (!sea.isSea()) throw new Error(`${asset}: not running as a single executable`);
  const bytes = Buffer.from(sea.getAsset(asset));
  const sum = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `wal-doctor-native-${process.getuid ? process.getuid() : 'u'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0 || (process.getuid && st.uid !== process.getuid())) throw new Error(`${dir}: not a private directory; not loading native code from it`);
  const file = join(dir, `${sum}-${asset}`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o700 });
    renameSync(tmp, file);
  }
  const mod = { exports: {} };
  process.dlopen(mod, file);
  cache.set(asset, mod.exports);
  return mod.exports;
};
