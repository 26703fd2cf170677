#!/usr/bin/env node
// Writes the kubernetes provider's schema-embed.json and terraform-mapping-embed.json the way its
// cmd/pulumi-resource-kubernetes/generate.go does (json.Unmarshal, set the schema's version,
// json.Marshal), without compiling the generator and the pulumi codegen packages it imports.
//
//   node e2e/embed-json.mjs DIR VERSION     DIR = the module's cmd/pulumi-resource-kubernetes
//
// What Go's json.Marshal does to the module's schema.json and terraform-mapping.json, and this
// reproduces: compact output; strings re-escaped as Go does (<, >, & and U+2028/U+2029 as \u00XX /
// \u20XX, other control characters as \n \r \t \b \f or \u00XX, everything else raw UTF-8);
// numbers as Go prints a float64. The schema is unmarshalled into a struct: its keys keep the file's
// order (the file was written from that struct) and `version` goes after `displayName`. The mapping
// is unmarshalled into interface{}: every object's keys are sorted (Go sorts map keys).
// Byte-identical to the generator's output for 4.25.0 (compared with `cmp`); build.sh checks the
// sha256 of both files for the pinned version and runs the generator when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function parse(text) {
  let i = 0;
  const ws = () => {
    while (' \t\n\r'.includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { obj: entries };
      }
      for (;;) {
        ws();
        const key = str();
        ws();
        expect(':');
        const v = value();
        entries.push([key, v]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}');
        return { obj: entries };
      }
    }
    if (c === '[') {
      i++;
      const items = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { arr: items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']');
        return { arr: items };
      }
    }
    if (c === '"') return { str: str() };
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) throw new Error(`bad JSON at ${i}`);
    i += m[0].length;
    return { lit: m[0] };
  };
  const expect = (ch) => {
    if (text[i] !== ch) throw new Error(`expected ${ch} at ${i}`);
    i++;
  };
  const str = () => {
    const start = i;
    expect('"');
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`trailing data at ${i}`);
  return v;
}

const SHORT = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '"': '\\"', '\\': '\\\\' };
function goString(s) {
  return (
    '"' +
    s.replace(
      /[\u0000-\u001f"\\<>&\u2028\u2029]/g,
      (c) => SHORT[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    ) +
    '"'
  );
}

function goNumber(lit) {
  if (!/^-?\d/.test(lit)) return lit; // true, false, null
  const n = Number(lit);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go: strconv 'e' shortest, exponent without leading zeros but at least one digit
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}

function emit(v, sortKeys) {
  if (v.obj) {
    const entries = sortKeys ? [...v.obj].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))) : v.obj;
    return '{' + entries.map(([k, x]) => goString(k) + ':' + emit(x, sortKeys)).join(',') + '}';
  }
  if (v.arr) return '[' + v.arr.map((x) => emit(x, sortKeys)).join(',') + ']';
  if ('str' in v) return goString(v.str);
  return goNumber(v.lit);
}

function main([dir, version]) {
  if (!dir || !version) {
    process.stderr.write('usage: embed-json.mjs DIR VERSION\n');
    process.exit(2);
  }
  const schema = parse(readFileSync(join(dir, 'schema.json'), 'utf8'));
  const top = schema.obj.filter(([k]) => k !== 'version');
  const at = top.findIndex(([k]) => k === 'displayName') + 1 || top.findIndex(([k]) => k === 'name') + 1;
  top.splice(at, 0, ['version', { str: version }]);
  writeFileSync(join(dir, 'schema-embed.json'), emit({ obj: top }, false), { mode: 0o600 });
  const mapping = parse(readFileSync(join(dir, 'terraform-mapping.json'), 'utf8'));
  writeFileSync(join(dir, 'terraform-mapping-embed.json'), emit(mapping, true), { mode: 0o600 });
}

main(process.argv.slice(2));
