// Preloaded (node -r) by the bench to prove the fallback: @node-rs/crc32 fails to load, as it would
// on a platform without a prebuilt binary.
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@node-rs/crc32') throw Object.assign(new Error(`Cannot find module '${request}' (hidden by bench/no-native.cjs)`), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
