#!/usr/bin/env node
'use strict';
// `npm run schema`: writes the JSON Schema of spec files (schema/tandem-spec.schema.json) from the
// operations' declared fields, compiled to dist/ first by the script.
const path = require('path');
const fs = require('fs');
const { SPEC_SCHEMA_PATH, specJsonSchemaText } = require(
  path.join(__dirname, '..', 'dist', 'phases', 'sql', 'spec-schema.js'),
);
const target = path.join(__dirname, '..', SPEC_SCHEMA_PATH);
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, specJsonSchemaText());
process.stdout.write(`wrote ${SPEC_SCHEMA_PATH}\n`);
