#!/usr/bin/env node
'use strict';
// `npm run bench [-- --quick | --large]`: the benchmarks, compiled to dist/ by `npm ci` (the "prepare" script).
const path = require('path');
const fs = require('fs');
const run = path.join(__dirname, '..', 'dist', 'bench', 'run.js');
if (!fs.existsSync(run)) {
  process.stderr.write(
    'the benchmark is not built yet: run `npm ci` (or `npm run prepare`) in ' + path.join(__dirname, '..') + '.\n',
  );
  process.exit(2);
}
require(run)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write('bench failed: ' + (err && err.stack ? err.stack : String(err)) + '\n');
      process.exitCode = 1;
    },
  );
