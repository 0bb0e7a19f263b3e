#!/usr/bin/env node
'use strict';
// Node.js 22.1+ keeps the compiled code of the modules it loads on disk (module.enableCompileCache,
// in the OS temporary folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a later start skips
// compiling them: most of a cold start is loading code (docs/performance.md). Absent on Node 20.
require('node:module').enableCompileCache?.();
// Thin launcher: the compiled CLI lives in dist/ (`npm run build`).
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then(code => {
    process.exitCode = code;
  });
