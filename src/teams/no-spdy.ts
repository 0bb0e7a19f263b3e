/**
 * Why `serve` printed DEP0111 twice: restify's lib/server.js loads `spdy` at start for its
 * optional SPDY server (`createServer({ spdy })`), and spdy loads http-deceiver, which reads
 * `process.binding('http_parser')` as it loads (Node: DEP0111). ecebot never asks restify for
 * SPDY, so before restify loads, the `spdy` that restify would load is put in the require cache
 * as a module that refuses to be used. Only this module is kept out; every other warning still
 * shows. Imported for its effect, before restify (./server.ts).
 */
import Module, { createRequire } from 'node:module';

const fromRestify = createRequire(require.resolve('restify/lib/server.js'));
const path = fromRestify.resolve('spdy');
if (!require.cache[path]) {
  const stub = new Module(path);
  stub.exports = {
    createServer(): never {
      throw new Error('ecebot does not use SPDY; restify must not be asked for it');
    },
  };
  stub.loaded = true;
  require.cache[path] = stub;
}
