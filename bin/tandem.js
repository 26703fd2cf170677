#!/usr/bin/env node
'use strict';
// The `tandem` CLI. `npm ci` compiles the TypeScript to dist/ (the "prepare" script).
const path = require('path');
const fs = require('fs');
const main = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(
    'tandem is not built yet: run `npm ci` (or `npm run prepare`) in ' + path.join(__dirname, '..') + '.\n',
  );
  process.exit(2);
}
require(main)
  .cliEntry(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
